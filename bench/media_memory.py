"""Benchmark: does the media engine stream? Peak memory and wall time converting a long WAV.

Generates a WAV of `--minutes` of 44.1 kHz stereo 16-bit tone (an hour is about 635 MB) into a temporary
directory, streaming, then converts it to each `--formats` entry with `localcloud.engines.media.transcode`,
each in its own subprocess, and reports wall time and the child's peak resident memory (ru_maxrss from
wait4, i.e. that child's RUSAGE_CHILDREN figure) next to the file size. A baseline child that only imports
the engine shows the fixed cost. Everything is deleted afterwards unless `--keep` names a directory.

Run from the repository root:
    .venv/bin/python bench/media_memory.py --minutes 60
    .venv/bin/python bench/media_memory.py --minutes 5 --formats mp3,aac,flac
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_MIB = 1024 * 1024


@dataclass(frozen=True)
class ChildRun:
    wall_seconds: float
    peak_rss_bytes: int
    output: str


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="length of the generated WAV (default 60)"
    )
    parser.add_argument(
        "--formats", default="mp3,aac", help="comma-separated output formats (default mp3,aac)"
    )
    parser.add_argument("--keep", type=Path, help="write into this directory and keep the files")
    parser.add_argument("--child", nargs=3, metavar=("FORMAT", "SRC", "DST"), help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_baseline:
        return _child_baseline()
    if args.child:
        return _child_transcode(*args.child)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        _run(args.minutes, formats, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="media-bench-") as directory:
            _run(args.minutes, formats, Path(directory))
    return 0


def _run(minutes: float, formats: list[str], directory: Path) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    from localcloud.engines.testaudio import write_tone

    source = directory / "long.wav"
    started = time.perf_counter()
    write_tone(source, seconds=minutes * 60, sample_rate=44100, channels=2, frequency=440)
    size = source.stat().st_size
    print(
        f"source: {minutes:g} min 44.1 kHz stereo s16 WAV, {size / _MIB:.1f} MiB, "
        f"generated in {time.perf_counter() - started:.1f} s"
    )

    baseline = _spawn(["--child-baseline"])
    print(f"baseline (python + av + engine imported): peak RSS {baseline.peak_rss_bytes / _MIB:.1f} MiB")
    print(
        f"{'format':<7} {'wall s':>8} {'x realtime':>10} {'peak RSS MiB':>13} {'RSS/source':>11} "
        f"{'over baseline MiB':>18} {'output MiB':>11}  probe"
    )
    for fmt in formats:
        target = directory / f"long.{fmt}"
        run = _spawn(["--child", fmt, str(source), str(target)])
        info = json.loads(run.output)
        print(
            f"{fmt:<7} {run.wall_seconds:8.1f} {minutes * 60 / run.wall_seconds:10.1f} "
            f"{run.peak_rss_bytes / _MIB:13.1f} {run.peak_rss_bytes / size:11.3f} "
            f"{(run.peak_rss_bytes - baseline.peak_rss_bytes) / _MIB:18.1f} "
            f"{target.stat().st_size / _MIB:11.1f}  {info['codec']} {info['sample_rate']} Hz "
            f"{info['channels']} ch {info['duration_ms'] / 60000:.2f} min"
        )
        target.unlink()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"RUSAGE_CHILDREN ru_maxrss over all children: {_maxrss_bytes(children.ru_maxrss) / _MIB:.1f} MiB")


def _spawn(arguments: list[str]) -> ChildRun:
    """Run this script as a child and read that child's own peak RSS from wait4."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *arguments],
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=environment,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"child {arguments[0]} failed with exit code {process.returncode}")
    return ChildRun(wall, _maxrss_bytes(usage.ru_maxrss), output)


def _maxrss_bytes(maxrss: int) -> int:
    # Linux reports kilobytes, macOS bytes.
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def _child_baseline() -> int:
    import av  # noqa: F401 - the import itself is what is measured

    import localcloud.engines.media  # noqa: F401

    return 0


def _child_transcode(fmt: str, source: str, target: str) -> int:
    from localcloud.engines.media import TranscodeSpec, transcode

    info = transcode(source, target, TranscodeSpec(format=fmt))
    print(
        json.dumps(
            {
                "codec": info.codec,
                "sample_rate": info.sample_rate,
                "channels": info.channels,
                "duration_ms": info.duration_ms,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
