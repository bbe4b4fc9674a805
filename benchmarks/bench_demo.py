"""The demo's phases and peak memory, and a five-stage chain's creation time over one stage's.

    .venv/bin/python benchmarks/bench_demo.py      # or: make bench-demo

1. set-up: `make setup` and the npm installs, then LocalStack's venv (`ensure_environment`); with
   everything built this is only the checks, which is what a second `make demo` pays;
2. `python main.py demo --approve` in a fresh process, with no local cloud running, so the demo
   starts its own and discards it at the end; its phases (local cloud start, synth, apply, upload
   to last stage, teardown) are the `phase <name>: <s> s` lines it prints, its total the wall time
   of the process. Peak memory is the largest RSS of the demo's process tree plus the local
   cloud's (which the demo starts detached), sampled every 50 ms from /proc;
3. in one local cloud started for it: tests/configs/one_stage.yaml, then five_stage.yaml, each
   synthesized (not timed) and then created with every stack at once (timed); the ratio is five
   stages' creation time over one stage's.

The figures go in docs/benchmarks.md. Nothing here asserts a time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from process_tree import tree_rss_kb  # noqa: E402  (beside this script)

from emulator.launcher import (  # noqa: E402  (the repository is put on sys.path first)
    LocalStackServer,
    ensure_environment,
    existing_endpoint,
    localstack_home,
)
from xrdeploy.config.model import load_config  # noqa: E402
from xrdeploy.rehearsal.local_chain import LocalDeployment, with_emulator_state  # noqa: E402

PHASE_LINE = re.compile(r"phase (?P<name>[a-z ]+): (?P<seconds>[0-9.]+) s")
SETUP_TARGETS = (
    "setup",
    "node_modules/.package-lock.json",
    "emulator/iam_evaluator/node_modules/.package-lock.json",
)
CONFIGS = REPO / "tests" / "configs"


def local_cloud_pid() -> int | None:
    """The detached LocalStack of `python -m emulator up` (what the demo starts), if running."""
    try:
        record = json.loads((localstack_home() / "local-cloud.json").read_text())
    except (OSError, ValueError):
        return None
    pid = record.get("pid")
    return pid if isinstance(pid, int) and pid > 0 else None


@contextmanager
def peak_rss(pid: int) -> Iterator[Callable[[], int]]:
    """Samples the tree of `pid` plus the local cloud's every 50 ms; yields the peak's getter."""
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            cloud = local_cloud_pid()
            peak = max(peak, tree_rss_kb(pid) + (tree_rss_kb(cloud) if cloud else 0))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: peak
    finally:
        done.set()
        sampler.join()


def set_up() -> float:
    started = time.monotonic()
    subprocess.run(["make", "--silent", *SETUP_TARGETS], cwd=REPO, check=True)
    ensure_environment()
    return time.monotonic() - started


def run_demo() -> tuple[dict[str, float], float, int, int]:
    """(phases, wall seconds, peak KiB, exit code) of one `main.py demo --approve`."""
    command = [sys.executable, str(REPO / "main.py"), "demo", "--approve"]
    phases: dict[str, float] = {}
    started = time.monotonic()
    with subprocess.Popen(
        command, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as demo:
        assert demo.stderr is not None
        with peak_rss(demo.pid) as peak:
            for line in demo.stderr:
                sys.stderr.write(line)
                found = PHASE_LINE.search(line)
                if found:
                    phases[found["name"]] = float(found["seconds"])
            code = demo.wait()
    return phases, time.monotonic() - started, peak(), code


def creation_seconds(endpoint: str, config: str, workdir: Path) -> float:
    chain = with_emulator_state(load_config(CONFIGS / f"{config}.yaml"))
    deployment = LocalDeployment(chain, endpoint, workdir / config)
    deployment.synthesize()
    started = time.monotonic()
    deployment.deploy(concurrently=True)
    return time.monotonic() - started


def chain_ratio() -> tuple[float, float]:
    """Seconds to create one_stage, then five_stage, in one local cloud started for them."""
    with (
        tempfile.TemporaryDirectory(prefix="xrdeploy-bench-") as scratch,
        LocalStackServer(ensure_environment()) as server,
    ):
        one = creation_seconds(server.endpoint, "one_stage", Path(scratch))
        five = creation_seconds(server.endpoint, "five_stage", Path(scratch))
    return one, five


def main() -> int:
    if existing_endpoint():
        sys.stderr.write("a local cloud is running: stop it (`python -m emulator down`) first\n")
        return 2
    setup = set_up()
    phases, total, peak_kb, code = run_demo()
    one, five = chain_ratio()
    rows = [("set-up (make setup, LocalStack venv)", setup)]
    rows += list(phases.items())
    rows += [
        ("demo in all (one process)", total),
        ("create one_stage.yaml (1 stack)", one),
        ("create five_stage.yaml (5 stacks at once)", five),
    ]
    print("| phase | wall time (s) |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")
    print(f"\ndemo exit code {code}; peak RSS {peak_kb / 1024:.0f} MiB")
    print(f"five stages / one stage: {five / one:.2f}x")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
