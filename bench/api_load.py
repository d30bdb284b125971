"""The HTTP API under load, and job listings as the jobs grow (issue 11).

    python -m bench api_load [--sizes 100,1000,10000] [--clients 16] [--seconds 20]

A real `python -m localcloud up` (template.yaml's functions) runs as a child process on loopback, so the load
generator's threads do not share its interpreter. Jobs are written straight into the job store (audiochain's
JobStore over localcloud's OSS, 8 threads, each job finished: see `fill`) until the bucket holds each size
in turn; at each size:

- listing: 40 sequential `GET /v1/jobs?limit=20` (the first page, what the dashboard and `run` ask for):
  p50 and p99;
- at the largest size, `--clients` threads each doing `GET /v1/jobs/{id}` of a random job for `--seconds`:
  p50, p99 and requests per second.

Issue 11's targets: listing p50 at 10,000 jobs ≤ 1.5x at 100 jobs; 16 clients: p99 of GET job ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.chain_crash import TOKEN, LocalCloudProcess, free_port
from localcloud.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from shared.auth import Credentials
from shared.clients.oss import OssClient
from shared.jobs.backend import OssBackend
from shared.jobs.store import JobStore
from shared.logging import configure_logging

BUCKET = "audiochain"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def fill(store: JobStore, start: int, stop: int) -> list[str]:
    """Jobs numbered start..stop, finished as most of a bucket's jobs are: each step claimed and recorded
    succeeded, the job taken out of the sweep, and settled (the sweep seals a job's `state.json`
    SETTLE_QUIET after finalising it: shared/pipeline/settle.py). (Left running, the child's fetch_results
    timer would work through thousands of broken jobs in the same interpreter as the API while it is
    measured: contention a deployment, where the sweep runs in its own instance, does not have.)"""

    def create(number: int) -> str:
        body = {"source": f"media/file-{number:05d}.wav", "params": {"f": "mp3"}}
        view, _ = store.create_or_get("convert", body, f"bench:{number}")
        for step in view.steps:
            claim = store.claim_step(view.id, step.index)
            if claim is not None:
                store.record_succeeded(
                    view.id, step.index, claim.attempt, outputs={"audio": f"out/file-{number:05d}.mp3"}
                )
        store.deactivate(view.id)
        store.seal(store.load(view.id))
        return view.id

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(create, range(start, stop)))


def timed_gets(client: httpx.Client, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


def load(base: str, job_ids: list[str], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                client.get(f"v1/jobs/{rng.choice(job_ids)}").raise_for_status()
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "clients": clients,
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / seconds, 1),
        "get_job_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "get_job_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench api_load")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(sys.argv[1:])
    configure_logging(level="WARNING", stream=sys.stderr)  # the figures on stdout, not every request
    sizes = sorted(int(part) for part in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="api-load-") as scratch:
        cloud = LocalCloudProcess(Path(scratch) / "data", free_port(), Path(scratch) / "localcloud.log")
        cloud.start()
        base = f"{cloud.endpoint}/2016-08-15/proxy/audiochain/api/"
        credentials = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
        try:
            with (
                OssClient(cloud.endpoint, "cn-hangzhou", credentials) as oss,
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as api,
            ):
                store = JobStore(OssBackend(oss, BUCKET))
                job_ids: list[str] = []
                for size in sizes:
                    started = time.monotonic()
                    job_ids += fill(store, len(job_ids), size)
                    filled = time.monotonic() - started
                    timed_gets(api, "v1/jobs?limit=20", 3)  # warm up
                    listing = timed_gets(api, "v1/jobs?limit=20", 40)
                    print(
                        json.dumps(
                            {
                                "jobs": size,
                                "fill_s": round(filled, 1),
                                "listing_p50_ms": round(statistics.median(listing) * 1000, 1),
                                "listing_p99_ms": round(percentile(listing, 0.99) * 1000, 1),
                            }
                        ),
                        flush=True,
                    )
                print(json.dumps({"jobs": sizes[-1], **load(base, job_ids, args.clients, args.seconds)}))
        finally:
            cloud.stop()


if __name__ == "__main__":
    main()
