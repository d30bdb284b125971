"""The chain under duplicate delivery and injected faults (issue 8's figures), over the fake world.

    python -m bench chain_faults

1. 20 uploads, each OSS event delivered 3 times, then 40 completion notifications published again:
   duplicate jobs, recognition/conversion tasks and completion messages.
2. 20 uploads with 20 % of service sends failing (503, 429, hangs cut off by the client timeout, answers
   dropped after the service acted; the clients' own retry rule applies) and every notification of the
   first 5 minutes dropped: how many chains complete, and after how many timer ticks (1 tick = the
   timer's 1-minute period, simulated; the step lease is 600 s), over several seeds.

The harness (tests/unit/pipeline/faults.py) drives the functions' handlers in process with a simulated
clock; no localcloud, no sockets. Timings are CPU seconds of this process.
"""

from __future__ import annotations

import json
import time

import structlog

from tests.unit.pipeline.faults import duplicate_delivery, faulty_chain

SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)


def main() -> None:
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())  # the figures, not the logs
    started = time.process_time()
    duplicates = duplicate_delivery(20, deliveries=3, republished=40).figures()
    print("duplicate delivery:", json.dumps(duplicates), flush=True)
    for seed in SEEDS:
        run = faulty_chain(20, rate=0.2, drop_ticks=5, max_ticks=60, seed=seed)
        figures = run.figures()
        print(f"faults seed {seed}:", json.dumps(figures), flush=True)
    print(f"cpu seconds: {time.process_time() - started:.1f}")


if __name__ == "__main__":
    main()
