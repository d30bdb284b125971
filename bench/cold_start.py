"""Cold start of each packaged function against the dependency floor (issue 11).

    make build && python -m bench.cold_start [--rounds N] [--without-bytecode]

Each function's build/<fn>.zip is unpacked into a fresh directory, as FC unpacks it into /code, and a fresh
`python3.10 -I -S -B` imports `index` with only that directory on sys.path: -B because FC's code directory
is read-only, so nothing compiled during a cold start is kept for the next one. The floor is the same
interpreter importing `httpx, pydantic, structlog` from the same directory. Figures are the CPU time (user +
sys) of the child; rounds alternate the function and its floor so that a slow spell of the shared machine
weighs on both; the median and the minimum of the rounds are printed (the minimum is the cost with the least
interference). `--without-bytecode` deletes the packaged .pyc files first: the cold start of a package built
without them (before `deploy.bytecode`, or on a machine without CPython 3.10).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import tempfile
import zipfile
from pathlib import Path

BUILD = Path(__file__).resolve().parent.parent / "build"
RATIO_LIMIT = 1.8  # issue 11's done-when: each function within 1.8x the dependency floor
FLOOR = "import httpx, pydantic, structlog"


def interpreter() -> str:
    # The packages are built for CPython 3.10 (the FC runtime); fall back to whatever python3 exists. A pyenv
    # shim is a shell script that resolves the version through the environment, so prefer the real binary.
    pyenv = Path("/root/.pyenv/versions/3.10.13/bin/python3.10")
    found = str(pyenv) if pyenv.exists() else shutil.which("python3.10") or shutil.which("python3")
    if found is None:
        raise SystemExit("no python3.10 or python3 on PATH")
    return found


def cpu_seconds(python: str, package_dir: Path, code: str) -> float:
    # -I -S: no user site, no site-packages, no PYTHON* env: only the package directory is importable.
    # -B: write no bytecode, as on FC's read-only /code.
    snippet = f"import sys; sys.path.insert(0, {str(package_dir)!r}); {code}"
    # getrusage, not os.times: its clock-tick resolution (10 ms) was as large as the effects measured.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([python, "-I", "-S", "-B", "-c", snippet], check=True, cwd=package_dir)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def unpack(zip_path: Path, into: Path, *, without_bytecode: bool) -> Path:
    """The package as FC would find it under /code (optionally without its .pyc files)."""
    target = into / zip_path.stem
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    if without_bytecode:
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
    return target


def measure(python: str, package_dir: Path, rounds: int) -> tuple[list[float], list[float]]:
    """(import index, floor) CPU seconds, `rounds` of each, alternated."""
    costs: list[float] = []
    floors: list[float] = []
    for _ in range(rounds):
        costs.append(cpu_seconds(python, package_dir, "import index"))
        floors.append(cpu_seconds(python, package_dir, FLOOR))
    return costs, floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument(
        "--without-bytecode", action="store_true", help="delete the packaged .pyc files first"
    )
    args = parser.parse_args()
    zips = sorted(path for path in BUILD.glob("*.zip") if (BUILD / path.stem / "index.py").is_file())
    if not zips:
        raise SystemExit(f"no build/<fn>.zip under {BUILD}: run `make build` first")
    python = interpreter()
    bytecode = "without bytecode" if args.without_bytecode else "as packaged"
    print(f"interpreter: {python}; each zip unpacked {bytecode}; {args.rounds} alternated rounds, -B")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        for zip_path in zips:
            package_dir = unpack(zip_path, Path(scratch), without_bytecode=args.without_bytecode)
            costs, floors = measure(python, package_dir, args.rounds)
            median, floor = statistics.median(costs), statistics.median(floors)
            least, least_floor = min(costs), min(floors)
            verdict = "meets" if median <= RATIO_LIMIT * floor else "misses"
            print(
                f"  {zip_path.stem:14s} median: index {median:5.3f} s  floor {floor:5.3f} s  "
                f"ratio {median / floor:4.2f}x ({verdict} <= {RATIO_LIMIT}x)   "
                f"minimum: {least:5.3f} / {least_floor:5.3f} s = {least / least_floor:4.2f}x"
            )


if __name__ == "__main__":
    main()
