"""The app's only door to the local cloud: its command line, `python -m emulator`.

The app never imports the emulator (it stands beside the app, like AWS does); it starts, finds and
stops it through that CLI and then talks to it as to AWS, through the endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from xrdeploy.errors import ToolError
from xrdeploy.paths import REPO_ROOT

ENDPOINT_ENV = "LOCALSTACK_ENDPOINT"


@dataclass(frozen=True)
class LocalCloud:
    endpoint: str
    started_here: bool


def _emulator(*args: str, capture_stderr: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if capture_stderr else None,  # else progress goes to the user
        text=True,
        check=False,
    )


def _json(result: subprocess.CompletedProcess[str], what: str) -> Any:
    if result.returncode not in (0, 3):
        detail = (result.stderr or "").strip().splitlines()
        raise ToolError(f"local cloud: {what} failed" + (f": {detail[-1]}" if detail else ""))
    return json.loads(result.stdout or "null")


def running_endpoint() -> str | None:
    """`$LOCALSTACK_ENDPOINT` when set, else the local cloud started by `local up`, else None."""
    if os.environ.get(ENDPOINT_ENV):
        return os.environ[ENDPOINT_ENV].rstrip("/")
    running = _json(_emulator("status", "--json", capture_stderr=True), "status")
    return str(running["endpoint"]) if running else None


def ensure_local_cloud() -> LocalCloud:
    """The running local cloud, or a new one (the first start builds its venv: about a minute)."""
    endpoint = running_endpoint()
    if endpoint:
        return LocalCloud(endpoint, started_here=False)
    started = _emulator("up", "--json")
    if started.returncode != 0:
        raise ToolError("local cloud: could not start it (see the lines above)")
    return LocalCloud(str(json.loads(started.stdout)["endpoint"]), started_here=True)


def stop_local_cloud() -> None:
    _emulator("down", capture_stderr=True)


def local_instances(endpoint: str) -> list[dict[str, Any]]:
    """Local EC2 instances with the loopback URL of the page each serves."""
    listed = _json(
        _emulator("instances", "--endpoint", endpoint, "--json", capture_stderr=True), "instances"
    )
    return list(listed or [])


def passthrough(args: list[str]) -> int:
    """Run `python -m emulator ARGS` for the user (`python main.py local ...`)."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], cwd=REPO_ROOT, check=False
    ).returncode


def permission_ledger(endpoint: str) -> dict[str, Any]:
    """The local cloud's permission ledger as it serves it (`python -m emulator permissions`)."""
    result = _emulator("permissions", "--endpoint", endpoint, "--json", capture_stderr=True)
    if result.returncode != 0:
        lines = (result.stderr or "").strip().splitlines() or ["permissions failed"]
        raise ToolError(f"local cloud: {lines[-1].removeprefix('error: ')}")
    ledger = json.loads(result.stdout or "null")
    if not isinstance(ledger, dict):
        raise ToolError("local cloud: permissions answered no ledger")
    return ledger
