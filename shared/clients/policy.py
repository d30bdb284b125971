"""How patient a client is: per-phase timeouts and the retry policy (backoff with full jitter).

>>> RetryPolicy(max_attempts=2, random=lambda: 1.0).delay(1)
0.2
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shared.errors import InvalidRequestError


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed for each phase of a request; every client sets all four explicitly.

    >>> Timeouts(read=120).to_httpx().read
    120
    """

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise InvalidRequestError.single(
                    name, "positive", f"must be a positive number of seconds, got {value!r}", "Timeouts"
                )

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)

    def with_read(self, read: float) -> Timeouts:
        """The same timeouts with a longer read phase (long polling, slow synchronous models)."""
        return Timeouts(connect=self.connect, read=read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: exponential backoff with full jitter.

    The n-th retry waits a uniformly random time in [0, min(max_delay, base_delay * 2**(n-1))],
    or what the service asked for in `Retry-After` (capped at max_delay) when that is longer.
    `sleep` and `random` are injectable so tests neither wait nor depend on chance.

    >>> RetryPolicy(random=lambda: 1.0).delay(3)
    0.8
    """

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise InvalidRequestError.single(
                "max_attempts",
                "min",
                f"must be an integer of at least 1, got {self.max_attempts!r}",
                "RetryPolicy",
            )
        for name in ("base_delay", "max_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidRequestError.single(
                    name, "non_negative", f"must be >= 0 seconds, got {value!r}", "RetryPolicy"
                )

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt only."""
        return cls(max_attempts=1)

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry_number` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))
        wait = float(self.random()) * ceiling
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait
