"""`python -m deploy.redrive`: replay every event parked in the dead-letter queue once.

Reads the same environment as the functions (AUDIOCHAIN_BUCKET, AUDIOCHAIN_*_ENDPOINT, the AccessKey in
ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET, DASHSCOPE_API_KEY) and replays through the
pipeline's own handlers (shared.pipeline.redrive). Prints a JSON report; exits 1 when a replay failed
(those messages stay parked for the next run).

    python -m deploy.redrive --queue audiochain-dead-letter [--max 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from shared.errors import AudiochainError
from shared.pipeline.provider import PipelineProvider
from shared.pipeline.redrive import DEFAULT_MAX_MESSAGES, redrive


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("--queue", default="audiochain-dead-letter", help="the DeadLetterQueue parameter")
    parser.add_argument("--max", type=int, default=DEFAULT_MAX_MESSAGES, help="messages per run")
    args = parser.parse_args(argv)
    provider = PipelineProvider("redrive", uses_dashscope=True)
    try:
        orchestrator = provider.orchestrator()
        queue_client = orchestrator.clients.mns
        if not hasattr(queue_client, "receive"):
            print("redrive: the pipeline's MNS client cannot read queues", file=sys.stderr)
            return 2
        report = redrive(queue_client, args.queue, orchestrator, max_messages=args.max)  # type: ignore[arg-type]
    except AudiochainError as error:
        print(f"redrive: {error}", file=sys.stderr)
        return 2
    finally:
        provider.close()  # its connections (localcloud keeps them alive, as the cloud does)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=2, default=str))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
