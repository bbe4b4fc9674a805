"""What a local instance costs at launch, now that RunInstances boots it: the time from
``InstanceHost.instance(spec)`` to a running instance (namespaces, uid maps, overlays, ec2-user,
metadata service), the memory of its processes, and the time to stop it; and what a rootless
LocalStack adds once, before its first instance: building the skeleton layer
(``instances/skeleton.py``; timed here as whoever runs the script, over this host's directories).

    .venv/bin/python benchmarks/bench_instance_boot.py [--count 5]

Runs the instance host on LocalStack's own interpreter (the venv ``ensure_environment`` builds),
without LocalStack around it, starting ``--count`` instances one after another without user data
and stopping each before the next; prints a Markdown table (median and max over the runs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.process_tree import tree_rss_kb
from emulator.launcher import ensure_environment

# Runs on LocalStack's interpreter: one JSON line per instance.
MEASURE = """
import json, os, sys, time
from pathlib import Path
from xrdeploy_local_cloud.instances.host import InstanceHost, InstanceSpec

from xrdeploy_local_cloud.instances import skeleton

started = time.monotonic()
skeleton.ensure(Path(sys.argv[1]) / "skeleton")
print(json.dumps({"skeleton": time.monotonic() - started}), flush=True)
host = InstanceHost(Path(sys.argv[1]))
assert host.unsupported_reason() is None, host.unsupported_reason()
for number in range(int(sys.argv[2])):
    spec = InstanceSpec(f"i-bench{number:012d}", "111111111111", "us-west-2", "us-west-2a",
                        "10.0.0.9", "t3.micro", "ami-bench", {}, None)
    started = time.monotonic()
    instance = host.instance(spec)
    booted = time.monotonic() - started
    print(json.dumps({"boot": booted, "pid": instance._process.pid}), flush=True)
    sys.stdin.readline()  # the parent has measured the memory
    started = time.monotonic()
    host.stop_instance(spec.instance_id)
    print(json.dumps({"stop": time.monotonic() - started}), flush=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    python = ensure_environment() / "bin" / "python"
    boots, stops, memory = [], [], []
    with tempfile.TemporaryDirectory(prefix="xrdeploy-bench-") as state:
        process = subprocess.Popen(
            [str(python), "-c", MEASURE, state, str(args.count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        layer = json.loads(process.stdout.readline())["skeleton"]
        for _ in range(args.count):
            booted = json.loads(process.stdout.readline())
            boots.append(booted["boot"])
            memory.append(tree_rss_kb(booted["pid"]) / 1024)
            process.stdin.write("\n")
            process.stdin.flush()
            stops.append(json.loads(process.stdout.readline())["stop"])
        if process.wait() != 0:
            return 1
    print(f"| measure (n={args.count}) | median | max |")
    print("|---|---|---|")
    for name, values, unit in (
        ("boot (s)", boots, ""),
        ("stop (s)", stops, ""),
        ("memory of its processes (MiB RSS)", memory, ""),
    ):
        print(f"| {name}{unit} | {statistics.median(values):.2f} | {max(values):.2f} |")
    print(f"| skeleton layer, once per rootless LocalStack (s) | {layer:.2f} | {layer:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
