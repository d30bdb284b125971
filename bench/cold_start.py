"""Cold start of each packaged function against the dependency floor (issue 11).

    make build && python -m bench.cold_start [--runs N]

Each figure is the CPU time (user + sys of the child) of a fresh `python3.10 -I -S` that imports one packaged
build/<fn>/index.py with only build/<fn> on sys.path, as an FC instance does; the floor is the same interpreter
importing `httpx, pydantic, structlog` from the same package directory. CPU time, not wall time, because the
machine the figures come from is shared. Median of --runs runs (default 15).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
from pathlib import Path

BUILD = Path(__file__).resolve().parent.parent / "build"
RATIO_LIMIT = 1.8  # issue 11's done-when: each function within 1.8x the dependency floor


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
    snippet = f"import sys; sys.path.insert(0, {str(package_dir)!r}); {code}"
    # getrusage, not os.times: its clock-tick resolution (10 ms) was as large as the effects measured.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([python, "-I", "-S", "-c", snippet], check=True, cwd=package_dir)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(python: str, package_dir: Path, code: str, runs: int) -> float:
    return statistics.median(cpu_seconds(python, package_dir, code) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    functions = sorted(path.parent.name for path in BUILD.glob("*/index.py"))
    if not functions:
        raise SystemExit(f"no build/<fn>/index.py under {BUILD}: run `make build` first")
    python = interpreter()
    print(f"interpreter: {python}; median CPU of {args.runs} fresh runs")
    for name in functions:
        package_dir = BUILD / name
        floor = median_cpu(python, package_dir, "import httpx, pydantic, structlog", args.runs)
        cost = median_cpu(python, package_dir, "import index", args.runs)
        verdict = "meets" if cost <= RATIO_LIMIT * floor else "misses"
        print(
            f"  {name:16s} import index {cost:6.3f} s  floor {floor:6.3f} s  "
            f"ratio {cost / floor:4.2f}x ({verdict} <= {RATIO_LIMIT}x)"
        )


if __name__ == "__main__":
    main()
