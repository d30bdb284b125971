from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import InvalidRequestError
from shared.jobs.ids import (
    JOB_ID_LENGTH,
    check_job_id,
    is_job_id,
    job_id_from_work_key,
    job_id_time,
    new_job_id,
)

NOW = datetime(2025, 1, 15, 8, 30, 45, 123000, tzinfo=timezone.utc)


def test_new_ids_are_well_formed_and_unique() -> None:
    ids = {new_job_id(NOW) for _ in range(2000)}
    assert len(ids) == 2000
    assert all(is_job_id(job_id) and len(job_id) == JOB_ID_LENGTH for job_id in ids)


def test_a_later_job_sorts_before_an_earlier_one_so_listings_come_newest_first() -> None:
    earlier = new_job_id(NOW, randomness=b"\xff" * 10)
    later = new_job_id(NOW + timedelta(milliseconds=1), randomness=bytes(10))
    assert later < earlier


def test_the_creation_time_reads_back_from_the_id_to_the_millisecond() -> None:
    assert job_id_time(new_job_id(NOW)) == NOW


def test_a_naive_time_or_short_randomness_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as naive:
        new_job_id(datetime(2025, 1, 15))
    assert naive.value.rule == "timezone_aware"
    with pytest.raises(InvalidRequestError) as short:
        new_job_id(NOW, randomness=b"abc")
    assert (short.value.field, short.value.rule) == ("randomness", "length")


def test_check_job_id_names_the_field_and_rule() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_job_id("../etc/passwd", "cursor")
    assert (caught.value.field, caught.value.rule) == ("cursor", "job_id_format")
    assert not is_job_id("J" + "0" * 26)  # upper case is not ours
    assert not is_job_id("ju" + "0" * 25)  # 'u' is not in Crockford's alphabet


@pytest.mark.parametrize(
    ("key", "prefix", "expected"),
    [
        ("work/{id}/normalized.flac", "work/", "{id}"),
        ("work/{id}/deep/er/merged.mp3", "work/", "{id}"),
        ("scratch/area/{id}/x.flac", "scratch/area/", "{id}"),
        ("work/{id}/", "work/", None),  # the folder itself is not a work object
        ("work/{id}", "work/", None),
        ("outputs/{id}/transcript.json", "work/", None),
        ("work/not-a-job/normalized.flac", "work/", None),
        ("work/{id}/normalized.flac", "", None),
    ],
)
def test_job_id_from_work_key_finds_the_job_only_in_its_work_folder(
    key: str, prefix: str, expected: str | None
) -> None:
    job_id = new_job_id(NOW)
    wanted = expected.format(id=job_id) if expected else None
    assert job_id_from_work_key(key.format(id=job_id), prefix) == wanted
