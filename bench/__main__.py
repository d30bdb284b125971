"""`python -m bench [name ...]`: run the benchmarks (all by default) and print their figures.

Figures are copied into bench/RESULTS.md by hand, with the date and the machine; no test asserts a timing.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "shared_costs": "import cost of the shared layer; building + signing one async-process request",
    "sign_requests": "cost of each signer",
    "media_memory": "peak memory and time converting a long WAV (default 60 minutes; --minutes N)",
    "chain_faults": "duplicates under triple delivery; completion under 20% injected faults (issue 8)",
    "chain_crash": "kill -9 of `localcloud up` at 8 random moments during 20 uploads: lost, duplicates (issue 8)",
    "bad_inputs": "100+ bad inputs: coded 4xx, no 5xx, no traceback, every legal upload gets a job (issue 8)",
    "chain_scale": "engine vs orchestration CPU, wall and files/min over 10, 50, 200 files (issue 11)",
    "api_load": "GET /v1/jobs p50 at 100/1,000/10,000 jobs; 16 clients reading jobs: p50/p99, req/s (issue 11)",
    "edge_requests": "CPU and wall time per request to localcloud's edge port over loopback (issue 11)",
    "cold_start": "CPU to import each packaged build/<fn>/index.py vs httpx+pydantic+structlog (issue 11)",
    "asr_wer": "word error rate and real-time factor of localcloud's recognition on synthesised speech",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        print(f"== {name}: {BENCHMARKS[name]}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        sys.argv = [f"bench.{name}"]
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
