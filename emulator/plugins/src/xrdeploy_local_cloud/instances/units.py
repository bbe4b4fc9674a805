"""systemd unit files as the service-manager stand-in reads them: the ``[Service]`` and
``[Install]`` keys it acts on, from the directories systemd searches, in systemd's order."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

UNIT_DIRS = (
    Path("/etc/systemd/system"),
    Path("/run/systemd/system"),
    Path("/usr/lib/systemd/system"),
)
SUPPORTED_TYPES = ("simple", "exec", "notify", "oneshot", "forking")
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class UnitError(Exception):
    """A unit that cannot be loaded; the message is systemctl's."""


@dataclasses.dataclass(frozen=True)
class Unit:
    name: str
    path: Path
    exec_start: tuple[str, ...]
    type: str = "simple"
    environment: tuple[tuple[str, str], ...] = ()
    environment_files: tuple[str, ...] = ()
    working_directory: str = "/"
    pid_file: str = ""
    wanted_by: tuple[str, ...] = ()


def unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def find(name: str) -> Path | None:
    for directory in UNIT_DIRS:
        if (directory / name).is_file():
            return directory / name
    return None


def _sections(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = sections.setdefault("", [])
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif "=" in line:
            key, value = line.split("=", 1)
            current.append((key.strip(), value.strip()))
    return sections


def load(name: str) -> Unit:
    full = unit_name(name)
    path = find(full)
    if path is None:
        raise UnitError(f"Unit {full} not found.")
    sections = _sections(path.read_text())
    service = sections.get("Service", [])
    values = {key: value for key, value in service}  # the last one wins, as in systemd
    exec_start = [value for key, value in service if key == "ExecStart" and value]
    if not exec_start:
        raise UnitError(f"Unit {full} has no ExecStart= setting.")
    kind = values.get("Type", "simple")
    if kind not in SUPPORTED_TYPES:
        raise UnitError(f"Unit {full}: Type={kind} is not supported by the stand-in.")
    environment = []
    for key, value in service:
        if key == "Environment":
            for assignment in shlex.split(value):
                variable, _, setting = assignment.partition("=")
                environment.append((variable, setting))
    wanted = [
        v for k, value in sections.get("Install", []) if k == "WantedBy" for v in value.split()
    ]
    return Unit(
        name=full,
        path=path,
        exec_start=tuple(shlex.split(exec_start[-1].lstrip("-@+!:"))),
        type=kind,
        environment=tuple(environment),
        environment_files=tuple(v for k, v in service if k == "EnvironmentFile"),
        working_directory=values.get("WorkingDirectory", "/"),
        pid_file=values.get("PIDFile", ""),
        wanted_by=tuple(wanted),
    )


def read_environment_file(setting: str) -> dict[str, str]:
    optional = setting.startswith("-")
    path = Path(setting.lstrip("-"))
    if not path.is_file():
        if optional:
            return {}
        raise UnitError(f"Failed to load environment file {path}: No such file or directory")
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and line[0] not in "#;" and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = " ".join(shlex.split(value))
    return values


def expand(words: tuple[str, ...], environment: Mapping[str, str]) -> list[str]:
    """systemd's rule: a lone ``$VAR`` word splits into words, ``${VAR}`` stays one word."""
    argv: list[str] = []
    for word in words:
        lone = re.fullmatch(r"\$(\w+)", word)
        if lone:
            argv.extend(environment.get(lone.group(1), "").split())
        else:
            argv.append(
                _VARIABLE.sub(lambda m: environment.get(m.group(1) or m.group(2), ""), word)
            )
    return argv
