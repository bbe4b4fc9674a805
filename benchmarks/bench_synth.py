"""Synth time and peak memory for chains of 1, 3, 10 and 30 stages, against the bare cost of
importing the AWS provider binding (which every synth pays).

    .venv/bin/python benchmarks/bench_synth.py [--stages 1 3 10 30] [--repeat 2]

Each measurement runs in a fresh process; peak memory is the largest RSS of the whole process
tree (Python plus jsii's Node child), sampled every 20 ms from /proc.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from process_tree import tree_rss_kb

REPO = Path(__file__).resolve().parent.parent
REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
]

BASELINE = """
import os
os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
import sys
sys.path.insert(0, {repo!r})
import cdktf
import modules  # the binding the way the constructs load it (modules/provider_binding.py)
import cdktf_cdktf_provider_aws.provider
"""

SYNTH = """
import sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from xrdeploy.config.model import parse_config
from xrdeploy.terraform.synth import synthesize
from xrdeploy.config.target import DeployTarget
import json
chain = parse_config(json.loads({config!r}), "bench")
synthesize(chain, DeployTarget(), Path({outdir!r}))
"""


def chain_config(stages: int) -> dict[str, object]:
    return {
        "app": {"name": "bench"},
        "stages": [
            {
                "name": f"s{i:02d}",
                "account_id": f"{100000000000 + i % 3:012d}",
                "region": REGIONS[i % len(REGIONS)],
                "fleet": {"tag_value": f"S{i}", "http_ingress_cidr": "10.0.0.0/8"},
            }
            for i in range(stages)
        ],
    }


def measure(code: str) -> tuple[float, float]:
    """(seconds, peak MiB) of running `code` in a fresh Python."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code])
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"benchmark child failed with {process.returncode}")
    return elapsed, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 3, 10, 30])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rows = []
    base = [measure(BASELINE.format(repo=str(REPO))) for _ in range(args.repeat)]
    base_s, base_mb = min(b[0] for b in base), max(b[1] for b in base)
    rows.append(("provider import only", base_s, base_mb))
    for stages in args.stages:
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as outdir:
                code = SYNTH.format(
                    repo=str(REPO), config=json.dumps(chain_config(stages)), outdir=outdir
                )
                runs.append(measure(code))
        rows.append((f"synth {stages} stage(s)", min(r[0] for r in runs), max(r[1] for r in runs)))
    print(
        f"| run | wall time (s, best of {args.repeat}) | peak RSS of process tree (MiB) "
        "| over import |"
    )
    print("|---|---:|---:|---:|")
    for name, seconds, mib in rows:
        extra = (
            ""
            if name.startswith("provider")
            else f"+{seconds - base_s:.1f} s, +{mib - base_mb:.0f} MiB"
        )
        print(f"| {name} | {seconds:.1f} | {mib:.0f} | {extra} |")


if __name__ == "__main__":
    main()
