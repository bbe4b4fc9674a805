"""Memory of a whole process tree (a Python process and its Node, Terraform and provider
children), read from /proc: what the benchmarks report as peak memory."""

from __future__ import annotations

from pathlib import Path


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, in KiB (0 once it is gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total
