"""Job ids: `j` followed by 26 characters of lower-case Crockford base32 (10 for time, 16 for randomness).

Like a ULID, an id is unique without coordination (80 random bits) and carries its creation time. Unlike a
ULID the time part counts *down* from the end of the 48-bit millisecond range, so ids sort newest first:
OSS lists keys in ascending order, and `jobs/<id>/…` then comes back latest job first without reading
every job (what an API listing wants).

    >>> from datetime import datetime, timezone
    >>> job_id = new_job_id(datetime(2025, 1, 15, tzinfo=timezone.utc), randomness=bytes(10))
    >>> job_id, is_job_id(job_id), job_id_time(job_id).year
    ('j7ydecbtyzz0000000000000000', True, 2025)
    >>> job_id_from_work_key(f"work/{job_id}/normalized.flac")
    'j7ydecbtyzz0000000000000000'
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from shared.auth.clock import as_utc
from shared.errors import InvalidRequestError

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_TIME_CHARS = 10
_RANDOM_CHARS = 16
_RANDOM_BYTES = 10
_MAX_MS = (1 << 48) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
JOB_ID_PATTERN = re.compile(r"j[0-9a-hjkmnp-tv-z]{26}")
JOB_ID_LENGTH = 1 + _TIME_CHARS + _RANDOM_CHARS


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + _ALPHABET.index(char)
    return value


def new_job_id(now: datetime, randomness: bytes | None = None) -> str:
    """A fresh job id for a job created at `now` (`randomness`: 10 bytes, for tests; random otherwise)."""
    moment = as_utc(now)
    millis = (moment - _EPOCH) // timedelta(milliseconds=1)
    if not 0 <= millis <= _MAX_MS:
        raise InvalidRequestError.single("now", "range", f"{moment.isoformat()} is outside the id's range")
    noise = secrets.token_bytes(_RANDOM_BYTES) if randomness is None else randomness
    if len(noise) != _RANDOM_BYTES:
        raise InvalidRequestError.single("randomness", "length", f"must be {_RANDOM_BYTES} bytes")
    return "j" + _encode(_MAX_MS - millis, _TIME_CHARS) + _encode(int.from_bytes(noise, "big"), _RANDOM_CHARS)


def is_job_id(value: object) -> bool:
    return isinstance(value, str) and JOB_ID_PATTERN.fullmatch(value) is not None


def check_job_id(value: object, field: str = "job_id") -> str:
    """`value` if it is a job id; otherwise an InvalidRequestError naming `field`."""
    if not is_job_id(value):
        raise InvalidRequestError.single(
            field, "job_id_format", f"must be a job id ('j' and 26 base32 characters), got {value!r}"
        )
    assert isinstance(value, str)
    return value


def job_id_time(job_id: str) -> datetime:
    """When the job was created, to the millisecond (read back from the id)."""
    millis = _MAX_MS - _decode(check_job_id(job_id)[1 : 1 + _TIME_CHARS])
    return _EPOCH + timedelta(milliseconds=millis)


def job_id_from_work_key(key: str, work_prefix: str = "work/") -> str | None:
    """The job a work object belongs to: `work/<job_id>/…` → `<job_id>`; None for any other key.

    Every object a cloud service writes for a job lives under `<prefix><job_id>/` (the pipeline uses the
    work and output prefixes), so a completion notification whose TaskId we have not recorded yet still
    finds its job through its target key.
    """
    if not work_prefix or not key.startswith(work_prefix):
        return None
    candidate, slash, rest = key[len(work_prefix) :].partition("/")
    return candidate if slash and rest and is_job_id(candidate) else None
