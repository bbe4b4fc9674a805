"""Instance user data, run once at the local instance's first boot as cloud-init runs it on Amazon
Linux: a ``#!`` script as it is (cloud-init's ``scripts-user``), or ``#cloud-config`` with
``write_files``, then ``packages`` (through the ``dnf`` stand-in), then ``runcmd`` (the order of
cloud-init's init, config and final stages). Other cloud-config keys are reported and skipped.
The output is what ``GetConsoleOutput`` shows."""

from __future__ import annotations

import base64
import dataclasses
import shlex
from collections.abc import Mapping
from typing import Any, Protocol

import yaml

from xrdeploy_local_cloud.instances.spec import RunResult

SCRIPT_PATH = "/var/lib/cloud/instance/scripts/part-001"
RUNCMD_PATH = "/var/lib/cloud/instance/scripts/runcmd"
TIMEOUT_SECONDS = 900.0
ENVIRONMENT = {"HOME": "/root", "USER": "root"}
HANDLED_KEYS = ("write_files", "packages", "runcmd")


class Box(Protocol):
    def run(
        self, argv: list[str], *, env: Mapping[str, str], cwd: str, timeout: float
    ) -> RunResult: ...

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None: ...


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing the boot does: write ``data`` to ``path`` (mode ``mode``) and, if ``run``, run
    it as a script."""

    path: str
    data: bytes
    mode: int
    run: bool


def _file(entry: dict[str, Any]) -> Step:
    content = str(entry.get("content", ""))
    encoding = str(entry.get("encoding", "text"))
    data = base64.b64decode(content) if encoding in ("b64", "base64") else content.encode()
    mode = int(str(entry.get("permissions", "0644")), 8)
    return Step(str(entry["path"]), data, mode, run=False)


def _runcmd(commands: list[Any]) -> str:
    # cloud-init: a string runs through the shell, a list is one command's words.
    lines = [shlex.join(str(w) for w in c) if isinstance(c, list) else str(c) for c in commands]
    return "#!/bin/sh\n" + "\n".join(lines) + "\n"


def steps(user_data: str) -> tuple[list[Step], list[str]]:
    """The boot's steps for ``user_data``, and notes on what the stand-in skips."""
    if user_data.startswith("#!"):
        return [Step(SCRIPT_PATH, user_data.encode(), 0o700, run=True)], []
    if not user_data.startswith("#cloud-config"):
        return [], ["user data is neither a #! script nor #cloud-config: nothing to run"]
    config = yaml.safe_load(user_data) or {}
    if not isinstance(config, dict):
        return [], ["#cloud-config is not a mapping: nothing to run"]
    found = [_file(entry) for entry in config.get("write_files") or []]
    packages = [str(p) for p in config.get("packages") or []]
    if packages:
        script = "#!/bin/sh\n" + shlex.join(["dnf", "install", "-y", *packages]) + "\n"
        found.append(Step("/var/lib/cloud/instance/scripts/packages", script.encode(), 0o700, True))
    if config.get("runcmd"):
        found.append(Step(RUNCMD_PATH, _runcmd(config["runcmd"]).encode(), 0o700, run=True))
    skipped = sorted(key for key in config if key not in HANDLED_KEYS)
    return found, [f"cloud-config key {key!r} is not run by the stand-in" for key in skipped]


def boot(box: Box, user_data: str) -> str:
    """Run ``user_data`` in ``box``; the console output. A failing step ends the boot's user
    data there, as a failing part does in cloud-init."""
    found, notes = steps(user_data)
    console = [f"cloud-init (xrdeploy local instance stand-in): {note}" for note in notes]
    for step in found:
        box.write_file(step.path, step.data, step.mode)
        if not step.run:
            continue
        result = box.run([step.path], env=ENVIRONMENT, cwd="/", timeout=TIMEOUT_SECONDS)
        console.append(result.output.rstrip("\n"))
        if result.exit_code != 0:
            console.append(f"cloud-init: {step.path} failed with exit code {result.exit_code}")
            break
    console.append("cloud-init (xrdeploy local instance stand-in): user data finished")
    return "\n".join(line for line in console if line) + "\n"
