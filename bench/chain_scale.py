"""The whole chain over 10, 50 and 200 short files: does orchestration grow with the work? (issue 11)

    python -m bench chain_scale [--sizes 10,50,200] [--engine whisper|pocketsphinx] [--seconds 5-60]

For each size N, `localcloud run` (in this process, as `make run` runs it) uploads N generated spoken files
(one sentence each, 1.5-4 s, eSpeak NG; synthesis happens before the clock starts) and follows them to their
transcripts. `--seconds 5-60` makes them passages of 5 to 60 s instead (eight lengths evenly spread, the
sentences repeated): the workload issue 11's own figures were measured on. Printed per size:

- engine CPU: the recognition workers' CPU (child processes, `RUSAGE_CHILDREN` once they are reaped) plus
  the media engine's (conversions run in this process on localcloud's task pool; each task's thread CPU is
  metered, `localcloud.metering.MEDIA_ENGINE_CPU`), both also printed apart;
- orchestration CPU: everything else this process spent (the four functions, localcloud's services, the
  run's watcher);
- wall time and files per minute, and orchestration / engine.

Issue 11's targets: at 50 files orchestration ≤ 25 % of the engines' CPU; at 200 files ≤ 4.5x the 50-file
orchestration figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
import wave
from pathlib import Path

from localcloud.metering import MEDIA_ENGINE_CPU
from localcloud.run import execute, options_from_arguments
from localcloud.run.inputs import Sample, synthesize_sample

SENTENCES = (
    "The weather is nice today.",
    "He drove his car to the city yesterday.",
    "Hello everyone and welcome to the show.",
    "I will send you the report tomorrow.",
    "Please close the window before you leave.",
    "The meeting starts at nine in the morning.",
    "She bought fresh bread at the market.",
    "Our team finished the project on time.",
)


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# About how long eSpeak NG takes to say one of SENTENCES, with the pause after it.
SECONDS_PER_SENTENCE = 2.6


def spoken_texts(seconds: tuple[float, float] | None) -> list[tuple[str, ...]]:
    """Eight texts: one sentence each, or passages whose lengths spread evenly over `seconds`.

    >>> [len(text) for text in spoken_texts((5, 60))]
    [2, 5, 8, 11, 14, 17, 20, 23]
    """
    if seconds is None:
        return [(sentence,) for sentence in SENTENCES]
    low, high = seconds
    texts = []
    for variant in range(len(SENTENCES)):
        target = low + (high - low) * variant / (len(SENTENCES) - 1)
        count = max(1, round(target / SECONDS_PER_SENTENCE))
        texts.append(tuple(SENTENCES[(variant + n) % len(SENTENCES)] for n in range(count)))
    return texts


def audio_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def make_files(count: int, folder: Path, seconds: tuple[float, float] | None = None) -> list[Path]:
    spoken = [
        synthesize_sample(Sample(f"s{i}", "wav", 16000, 1, text), folder / "voices")
        for i, text in enumerate(spoken_texts(seconds))
    ]
    files = []
    for index in range(count):
        path = folder / "inputs" / f"file-{index:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(spoken[index % len(spoken)].read_bytes())
        files.append(path)
    return files


def run_size(
    count: int, scratch: Path, timeout: float, seconds: tuple[float, float] | None = None
) -> dict[str, float | int]:
    files = make_files(count, scratch / f"n{count}", seconds)
    options = options_from_arguments(
        [str(path) for path in files],
        data=str(scratch / f"n{count}" / "data"),
        out=str(scratch / f"n{count}" / "out"),
        timeout=timeout,
    )
    self_before, children_before = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    media_before = MEDIA_ENGINE_CPU.seconds()
    started = time.monotonic()
    status = execute(options, out=io.StringIO())
    wall = time.monotonic() - started
    recognition = cpu(resource.RUSAGE_CHILDREN) - children_before
    media = MEDIA_ENGINE_CPU.seconds() - media_before
    engine = recognition + media
    orchestration = cpu(resource.RUSAGE_SELF) - self_before - media
    return {
        "files": count,
        "audio_s_mean": round(sum(audio_seconds(path) for path in files) / len(files), 1),
        "exit_status": status,
        "recognition_cpu_s": round(recognition, 1),
        "media_engine_cpu_s": round(media, 1),
        "engine_cpu_s": round(engine, 1),
        "orchestration_cpu_s": round(orchestration, 1),
        "orchestration_over_engine": round(orchestration / engine, 3) if engine else float("nan"),
        "wall_s": round(wall, 1),
        "files_per_min": round(count / wall * 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench chain_scale")
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--engine", default=None, help="LOCALCLOUD_ASR_ENGINE for the run (default: auto)")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--seconds", default=None, help="MIN-MAX: passages of MIN to MAX seconds")
    args = parser.parse_args(sys.argv[1:])
    seconds = None
    if args.seconds:
        low, _, high = args.seconds.partition("-")
        seconds = (float(low), float(high or low))
    if args.engine:
        os.environ["LOCALCLOUD_ASR_ENGINE"] = args.engine
    results = []
    with tempfile.TemporaryDirectory(prefix="chain-scale-") as scratch:
        for size in (int(part) for part in args.sizes.split(",")):
            figures = run_size(size, Path(scratch), args.timeout, seconds)
            results.append(figures)
            print(json.dumps(figures), flush=True)
    by_size = {int(r["files"]): r for r in results}
    if 50 in by_size and 200 in by_size:
        growth = float(by_size[200]["orchestration_cpu_s"]) / float(by_size[50]["orchestration_cpu_s"])
        print(json.dumps({"orchestration_200_over_50": round(growth, 2)}), flush=True)


if __name__ == "__main__":
    main()
