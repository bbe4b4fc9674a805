"""CPU of one local cloud's start and its first requests: what every test session, `python -m
emulator up` and the demo pay before any work of their own.

    python3 benchmarks/bench_local_cloud_start.py [--starts 3]

Each start: a LocalStackServer from the built venv (emulator.launcher, as the tests start theirs),
one first request to each service the chain uses (boto3 from this process, so the figure is the
local cloud's alone), then stop. CPU is that of LocalStack's process tree (it and the IAM
evaluator it starts), reaped by this process: the change in RUSAGE_CHILDREN over the start. The
venv is built first and not counted.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.launcher import LocalStackServer, ensure_environment
from xrdeploy.aws_clients import local_cloud_client

ACCOUNT = "000000000000"
REGION = "us-east-1"
FIRST_REQUESTS = {
    "s3": "list_buckets",
    "sts": "get_caller_identity",
    "iam": "list_roles",
    "codepipeline": "list_pipelines",
    "codedeploy": "list_applications",
    "ec2": "describe_instances",
    "lambda": "list_functions",
    "events": "list_rules",
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_start(venv: Path) -> tuple[float, float]:
    """(seconds until healthy, CPU seconds of the local cloud's tree over the whole start)."""
    before = children_cpu()
    started = time.monotonic()
    with LocalStackServer(venv) as server:
        healthy = time.monotonic() - started
        for service, operation in FIRST_REQUESTS.items():
            client = local_cloud_client(
                service, endpoint=server.endpoint, account_id=ACCOUNT, region=REGION
            )
            getattr(client, operation)()
    return healthy, children_cpu() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    venv = ensure_environment()
    runs = [one_start(venv) for _ in range(args.starts)]
    for number, (healthy, cpu) in enumerate(runs, 1):
        print(f"start {number}: healthy after {healthy:.1f} s, {cpu:.1f} s of CPU")
    print(
        f"median of {len(runs)}: healthy after {statistics.median(r[0] for r in runs):.1f} s, "
        f"{statistics.median(r[1] for r in runs):.1f} s of CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
