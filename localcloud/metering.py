"""CPU spent by localcloud's in-process media engine, per service, for the benchmarks.

OSS async processing, IMM and ICE run their media work (decode, resample, encode, read and write the objects)
on the task pool inside this process, so process CPU mixes it with the functions' and the services' own.
`MediaTaskLifecycle` adds each task's thread CPU here (and logs it as `cpu_ms` on `media_task.finished`);
recognition runs in worker processes and is measured as their CPU instead.

    >>> meter = CpuMeter()
    >>> meter.add("oss", 0.25); meter.add("oss", 0.5); meter.add("ice", 1.0)
    >>> meter.seconds("oss"), meter.seconds()
    (0.75, 1.75)
"""

from __future__ import annotations

import threading

__all__ = ["MEDIA_ENGINE_CPU", "CpuMeter"]


class CpuMeter:
    """Seconds of CPU by kind; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = {}

    def add(self, kind: str, seconds: float) -> None:
        with self._lock:
            self._seconds[kind] = self._seconds.get(kind, 0.0) + seconds

    def seconds(self, kind: str | None = None) -> float:
        """The total for `kind`, or for every kind."""
        with self._lock:
            return self._seconds.get(kind, 0.0) if kind is not None else sum(self._seconds.values())


# Process-wide: every LocalCloud in this process adds to it (a benchmark reads differences).
MEDIA_ENGINE_CPU = CpuMeter()
