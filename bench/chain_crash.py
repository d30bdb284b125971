"""`kill -9` of `python -m localcloud up` at random moments while uploads arrive (issue 8's crash figure).

    python -m bench chain_crash [--uploads 20] [--kills 8] [--seed 1] [--timeout 900]

A real `localcloud up` (template.yaml's four functions on the local runtime, Whisper recognition) runs as a
child process on loopback. The benchmark uploads N short spoken files to the inbox, one every 1.5 s, with
audiochain's OSS client; an upload counts once OSS acknowledged it (while localcloud is down the client
tries again until it is back). At K random moments in the first 1.5·N + 20 s it SIGKILLs the process and
starts it again at once on the same data directory and port. Then it waits until every acknowledged upload
has a finished job, and reports: uploads acknowledged, jobs per upload (lost = none, duplicated = more
than one), jobs succeeded, DashScope recognition tasks per job (from localcloud's state), and completion
messages on the output topic (read from a queue subscribed to it before the first upload) in all and by
distinct `completion_id`. Lost events are found by the timer's inbox reconciliation (every minute).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.chain_scale import SENTENCES as SCALE_SENTENCES
from localcloud.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, DEFAULT_ACCOUNT_ID
from localcloud.run.inputs import Sample, synthesize_sample
from shared.auth import Credentials, MnsAuth
from shared.clients.mns import MnsClient
from shared.clients.oss import OssClient
from shared.errors import AudiochainError

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "audiochain"
OUTPUT_TOPIC = "audiochain-output"
COUNT_QUEUE = "crash-bench-completions"
TOKEN = "crash-bench-token-0123456789abcdefghijklmnop"
SENTENCES = SCALE_SENTENCES[:5]
CREDENTIALS = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalCloudProcess:
    """`python -m localcloud up` as a child that can be killed and started again on the same state."""

    data: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "localcloud",
            "up",
            "--port",
            str(self.port),
            "--data",
            str(self.data),
        ]
        command += ["--parameter", f"ApiToken={TOKEN}"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("localcloud did not open its port within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Run:
    uploads: int
    kills: int
    seed: int
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> ETag
    upload_retries: int = 0
    kill_times: list[float] = field(default_factory=list)


def subscribe_counting_queue(cloud: LocalCloudProcess) -> None:
    """A queue subscribed to the output topic: every completion message lands there to be counted."""
    with MnsClient(cloud.endpoint, CREDENTIALS) as mns:
        mns.create_queue(COUNT_QUEUE, retention_seconds=86400)
    endpoint = f"acs:mns:cn-hangzhou:{DEFAULT_ACCOUNT_ID}:queues/{COUNT_QUEUE}"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Subscription xmlns="http://mns.aliyuncs.com/doc/v1/">'
        f"<Endpoint>{endpoint}</Endpoint><NotifyContentFormat>SIMPLIFIED</NotifyContentFormat></Subscription>"
    )
    with httpx.Client(auth=MnsAuth(CREDENTIALS)) as client:
        answer = client.put(
            f"{cloud.endpoint}/topics/{OUTPUT_TOPIC}/subscriptions/crash-bench",
            content=body.encode(),
            headers={"Content-Type": "text/xml;charset=UTF-8"},
        )
        answer.raise_for_status()


def upload_acknowledged(cloud: LocalCloudProcess, run: Run, key: str, data: bytes) -> None:
    """PutObject until OSS acknowledges it (localcloud may be down or restarting)."""
    while True:
        try:
            with OssClient(cloud.endpoint, "cn-hangzhou", CREDENTIALS) as oss:
                run.acknowledged[key] = oss.put_object(BUCKET, key, data).etag
            return
        except AudiochainError:
            run.upload_retries += 1
            time.sleep(0.2)


def drive(cloud: LocalCloudProcess, run: Run, files: list[bytes]) -> None:
    rng = random.Random(run.seed)
    window = 1.5 * run.uploads + 20.0
    events = [(index * 1.5, "upload", index) for index in range(run.uploads)]
    events += [(rng.uniform(0.5, window), "kill", index) for index in range(run.kills)]
    started = time.monotonic()
    for at, what, index in sorted(events):
        time.sleep(max(0.0, started + at - time.monotonic()))
        if what == "upload":
            upload_acknowledged(cloud, run, f"inbox/crash/upload-{index:02d}.wav", files[index % len(files)])
        else:
            run.kill_times.append(round(time.monotonic() - started, 1))
            cloud.kill()
            cloud.start()


def jobs_by_source(cloud: LocalCloudProcess, keys: list[str]) -> dict[str, list[dict[str, object]]]:
    api = f"{cloud.endpoint}/2016-08-15/proxy/audiochain/api/v1/jobs"
    found: dict[str, list[dict[str, object]]] = {}
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        for key in keys:
            answer = client.get(api, params={"source": key, "limit": 50})
            answer.raise_for_status()
            found[key] = list(answer.json()["jobs"])
    return found


def drain_completions(cloud: LocalCloudProcess) -> list[str]:
    bodies: list[str] = []
    with MnsClient(cloud.endpoint, CREDENTIALS) as mns:
        while True:
            batch = mns.receive(COUNT_QUEUE, wait_seconds=1)
            if batch is None:
                return bodies
            bodies.append(batch.body)
            mns.delete(COUNT_QUEUE, batch.receipt_handle)


def recognition_tasks(data: Path) -> int:
    with sqlite3.connect(data / "state.db") as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM dashscope_tasks").fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench chain_crash")
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(sys.argv[1:])
    run = Run(args.uploads, args.kills, args.seed)
    with tempfile.TemporaryDirectory(prefix="chain-crash-") as scratch:
        folder = Path(scratch)
        files = [
            synthesize_sample(Sample(f"s{i}", "wav", 16000, 1, (sentence,)), folder / "audio").read_bytes()
            for i, sentence in enumerate(SENTENCES)
        ]
        cloud = LocalCloudProcess(folder / "data", free_port(), folder / "localcloud.log")
        cloud.start()
        begun = time.monotonic()
        try:
            subscribe_counting_queue(cloud)
            drive(cloud, run, files)
            keys = sorted(run.acknowledged)
            deadline = time.monotonic() + args.timeout
            while True:
                jobs = jobs_by_source(cloud, keys)
                finished = [
                    key
                    for key in keys
                    if jobs[key] and all(job["state"] in ("succeeded", "failed") for job in jobs[key])
                ]
                if len(finished) == len(keys) or time.monotonic() > deadline:
                    break
                time.sleep(5)
            elapsed = time.monotonic() - begun
            completions = drain_completions(cloud)
        finally:
            cloud.stop()
        ids = Counter(json.loads(body).get("completion_id", "") for body in completions)
        states = Counter(str(job["state"]) for key in keys for job in jobs[key])
        figures = {
            "uploads_acknowledged": len(keys),
            "upload_retries_while_down": run.upload_retries,
            "kills_at_seconds": run.kill_times,
            "localcloud_starts": cloud.starts,
            "lost": sum(1 for key in keys if not jobs[key]),
            "duplicate_jobs": sum(len(jobs[key]) - 1 for key in keys if len(jobs[key]) > 1),
            "job_states": dict(states),
            "recognition_tasks": recognition_tasks(cloud.data),
            "completion_messages": len(completions),
            "distinct_completion_ids": len(ids),
            "seconds_to_all_finished": round(elapsed, 1),
        }
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("AUDIOCHAIN_LOG_LEVEL", "WARNING")
    main()
