"""Where the test suite's time goes: a pytest plugin that records each test phase's start, end and
CPU per xdist worker, and a summary of the record by tier and by worker.

    PYTEST_ADDOPTS="-p suite_timeline" PYTHONPATH=benchmarks SUITE_TIMELINE=/tmp/t.jsonl make test
    python3 benchmarks/suite_timeline.py /tmp/t.jsonl

(`CI=true bash .ci/run` with the same two variables records the CI run's suite.) The summary is
the table in docs/benchmarks.md: per tier the tests, their summed set-up + call + tear-down time
and the largest files, their CPU and the files with the most; per worker when its last test
ended. A phase's CPU is the worker's own and that of the processes it has reaped since the last
phase (Terraform, the cdktf CLI): a session fixture's LocalStack counts where it is stopped, at
the worker's last test. Nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

TIERS = ("unit", "synth", "terraform", "security", "integration")

_cpu_at_last_report = 0.0


def _cpu_so_far() -> float:
    """This worker's CPU and that of the children it has reaped (Terraform, the cdktf CLI, a
    LocalStack once stopped): a test's figure is the difference since the previous report."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pytest_runtest_logreport(report: Any) -> None:
    """The plugin: one JSON line per test phase, appended to $SUITE_TIMELINE."""
    out = os.environ.get("SUITE_TIMELINE")
    # On xdist's controller, a report a worker already recorded carries that worker's `node`.
    if not out or getattr(report, "node", None) is not None:
        return
    global _cpu_at_last_report
    cpu, _cpu_at_last_report = _cpu_at_last_report, _cpu_so_far()
    record = {
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "test": report.nodeid,
        "phase": report.when,
        "start": report.start,
        "stop": report.stop,
        "cpu": _cpu_at_last_report - cpu,
    }
    with Path(out).open("a") as f:
        f.write(json.dumps(record) + "\n")


def summary(records: list[dict[str, Any]]) -> list[str]:
    ours = [r for r in records if r["test"].startswith("tests/")]
    took, cpu, tests = Counter[str](), Counter[str](), Counter[str]()
    by_file, cpu_by_file = (
        defaultdict[str, Counter[str]](Counter),
        defaultdict[str, Counter[str]](Counter),
    )
    ends: dict[str, float] = {}
    for r in ours:
        parts = r["test"].split("::")[0].split("/")
        tier, seconds, name = (
            parts[1],
            r["stop"] - r["start"],
            "/".join(parts[2:]).removesuffix(".py"),
        )
        took[tier] += seconds
        by_file[tier][name] += seconds
        # Records made before the CPU column existed have none.
        cpu[tier] += r.get("cpu", 0.0)
        cpu_by_file[tier][name] += r.get("cpu", 0.0)
        tests[tier] += r["phase"] == "call"
        ends[r["worker"]] = max(ends.get(r["worker"], 0.0), r["stop"])
    started = min(r["start"] for r in ours)
    lines = [
        "| tier | tests | summed test time (s) | largest files (s) | CPU (s) | most CPU (s) |",
        "|---|---:|---:|---|---:|---|",
    ]
    for tier in TIERS:
        largest = ", ".join(f"{name} {s:.0f}" for name, s in by_file[tier].most_common(3))
        busiest = ", ".join(f"{name} {s:.0f}" for name, s in cpu_by_file[tier].most_common(3))
        row = (tier, tests[tier], f"{took[tier]:.0f}", largest, f"{cpu[tier]:.0f}", busiest)
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    wall = max(ends.values()) - started
    lines.append(
        f"| all | {sum(tests.values())} | {sum(took.values()):.0f} | wall time {wall:.0f} s "
        f"| {sum(cpu.values()):.0f} | |"
    )
    lines.append("")
    lines += [f"{w}: last test ended at {end - started:.0f} s" for w, end in sorted(ends.items())]
    return lines


if __name__ == "__main__":
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
    print("\n".join(summary(rows)))
