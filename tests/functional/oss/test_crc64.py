"""CRC-64/ECMA as OSS reports it (checked against crcmod, which the SDKs use), combining, and the size cap."""

from __future__ import annotations

import os
from pathlib import Path

import alibabacloud_oss_v2 as oss
import crcmod
import oss2
import pytest

from localcloud.server import LocalCloud
from localcloud.services.oss import crc64
from localcloud.services.oss.service import OssService
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION

_REFERENCE = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)


def test_the_crc_of_the_standard_check_string_is_the_published_value() -> None:
    assert crc64.crc64(b"123456789") == 0x995DC9BBDF1939FA
    assert crc64.crc64(b"") == 0


@pytest.fixture(params=["c", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of computing it: crcmod's C extension (installed with localcloud) and the Python fallback."""
    if request.param == "python":
        monkeypatch.setattr(crc64, "_C_CRC64", None)
    else:
        assert crc64._C_CRC64 is not None, "crcmod's C extension is a localcloud dependency"
    return str(request.param)


@pytest.mark.parametrize("size", [1, 7, 8, 9, 63, 64, 65, 4096, 100_003])
def test_the_crc_matches_the_sdks_reference_for_any_length(size: int, implementation: str) -> None:
    data = os.urandom(size)

    assert crc64.crc64(data) == _REFERENCE(data)


def test_a_running_crc_over_uneven_chunks_equals_the_crc_of_the_whole(implementation: str) -> None:
    data = os.urandom(10_000)
    running = crc64.Crc64()
    for start, stop in [(0, 3), (3, 1000), (1000, 1001), (1001, 10_000)]:
        running.update(data[start:stop])

    assert (running.value, running.size) == (_REFERENCE(data), 10_000)


def test_combining_part_crcs_gives_the_crc_of_the_joined_parts() -> None:
    parts = [os.urandom(n) for n in (100_000, 100_000, 33)]

    joined = crc64.combine(
        crc64.combine(crc64.crc64(parts[0]), crc64.crc64(parts[1]), 100_000), crc64.crc64(parts[2]), 33
    )

    assert joined == _REFERENCE(b"".join(parts))
    assert crc64.combine(12345, crc64.crc64(b""), 0) == 12345


@pytest.mark.sdk
def test_bodies_over_the_crc_cap_carry_no_crc_and_the_sdks_accept_them(
    oss_cloud: LocalCloud,
    oss_service: OssService,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("localcloud.services.oss.store.CRC64_MAX_BYTES", 150 * 1024)
    small, large = os.urandom(100 * 1024), os.urandom(200 * 1024)
    sdk = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), oss_cloud.endpoint, bucket)
    config = oss.config.load_default()
    config.credentials_provider = oss.credentials.StaticCredentialsProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    config.region, config.endpoint = REGION, oss_cloud.endpoint
    (tmp_path / "mixed.bin").write_bytes(large + small)

    small_put, large_put = sdk.put_object("small", small), sdk.put_object("large", large)
    uploaded = (
        oss.Client(config)
        .uploader(part_size=200 * 1024)
        .upload_file(oss.PutObjectRequest(bucket=bucket, key="mixed"), str(tmp_path / "mixed.bin"))
    )

    assert small_put.crc == _REFERENCE(small) and large_put.crc is None
    assert sdk.get_object("large").read() == large  # no header: oss2 skips its check
    assert uploaded.hash_crc64 is None  # a part without a CRC leaves the whole without one
    assert oss_service.store.head(bucket, "mixed").crc64 is None
    assert sdk.get_object("mixed").read() == large + small
