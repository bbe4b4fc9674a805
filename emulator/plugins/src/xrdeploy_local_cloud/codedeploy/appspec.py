"""The AppSpec file of an EC2/on-premises revision, read as the CodeDeploy agent reads it.

Rules from the agent (``application_specification/*.rb``): ``version: 0.0``; ``os`` linux (the
local cloud has no Windows instances); ``files`` source/destination pairs; ``permissions``
(object, pattern, except, type, owner, group, mode); ``hooks`` per lifecycle event with
``location``, ``timeout`` (default 3600, must be positive) and ``runas``;
``file_exists_behavior`` DISALLOW, OVERWRITE or RETAIN.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

DEFAULT_TIMEOUT = 3600
FILE_EXISTS_BEHAVIORS = ("DISALLOW", "OVERWRITE", "RETAIN")
HOOK_EVENTS = (
    "BeforeBlockTraffic",
    "AfterBlockTraffic",
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)


class AppSpecError(ValueError):
    """The revision's AppSpec file is missing or invalid (the agent's UnknownError)."""


@dataclasses.dataclass(frozen=True)
class Script:
    location: str
    timeout: float = DEFAULT_TIMEOUT
    runas: str | None = None


@dataclasses.dataclass(frozen=True)
class FileMapping:
    source: str
    destination: str


@dataclasses.dataclass(frozen=True)
class Permission:
    object: str
    pattern: str = "**"
    excepts: tuple[str, ...] = ()
    types: tuple[str, ...] = ("file", "directory")
    owner: str | None = None
    group: str | None = None
    mode: int | None = None


@dataclasses.dataclass(frozen=True)
class AppSpec:
    files: tuple[FileMapping, ...]
    permissions: tuple[Permission, ...]
    hooks: dict[str, tuple[Script, ...]]
    file_exists_behavior: str | None


def parse(text: str) -> AppSpec:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AppSpecError(f"The AppSpec file is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise AppSpecError("The AppSpec file must be a YAML mapping")
    if str(document.get("version")) != "0.0":
        raise AppSpecError(
            f"The AppSpec file's version must be 0.0, not {document.get('version')!r}"
        )
    if document.get("os") != "linux":
        raise AppSpecError(
            f"The AppSpec file's os must be linux on local instances, not {document.get('os')!r}"
        )
    behavior = document.get("file_exists_behavior")
    if behavior is not None and str(behavior).upper() not in FILE_EXISTS_BEHAVIORS:
        raise AppSpecError(f"Unknown file_exists_behavior: {behavior}")
    return AppSpec(
        files=tuple(_file(entry) for entry in _list(document, "files")),
        permissions=tuple(_permission(entry) for entry in _list(document, "permissions")),
        hooks=_hooks(document.get("hooks") or {}),
        file_exists_behavior=str(behavior).upper() if behavior is not None else None,
    )


def _list(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise AppSpecError(f"The AppSpec file's {key} must be a list of mappings")
    return value


def _file(entry: dict[str, Any]) -> FileMapping:
    if not entry.get("source") or not entry.get("destination"):
        raise AppSpecError("Every files entry needs a source and a destination")
    return FileMapping(str(entry["source"]), str(entry["destination"]))


def _permission(entry: dict[str, Any]) -> Permission:
    if not entry.get("object"):
        raise AppSpecError("Every permissions entry needs an object")
    mode = entry.get("mode")
    types = entry.get("type") or ["file", "directory"]
    return Permission(
        object=str(entry["object"]),
        pattern=str(entry.get("pattern") or "**"),
        excepts=tuple(str(item) for item in entry.get("except") or ()),
        types=tuple(str(item) for item in types),
        owner=str(entry["owner"]) if entry.get("owner") else None,
        group=str(entry["group"]) if entry.get("group") else None,
        # YAML reads 755 as an int; the agent reads its digits as octal either way.
        mode=int(str(mode), 8) if mode is not None else None,
    )


def _hooks(hooks: Any) -> dict[str, tuple[Script, ...]]:
    if not isinstance(hooks, dict):
        raise AppSpecError("The AppSpec file's hooks must be a mapping")
    parsed: dict[str, tuple[Script, ...]] = {}
    for event, scripts in hooks.items():
        if event not in HOOK_EVENTS:
            raise AppSpecError(f"The AppSpec file contains unknown lifecycle events: [{event!r}]")
        if not isinstance(scripts, list):
            raise AppSpecError(f"hooks.{event} must be a list of scripts")
        parsed[event] = tuple(_script(event, script) for script in scripts)
    return parsed


def _script(event: str, script: Any) -> Script:
    if not isinstance(script, dict) or not script.get("location"):
        raise AppSpecError(f"Every script of hooks.{event} needs a location")
    timeout = script.get("timeout", DEFAULT_TIMEOUT)
    try:
        seconds = float(timeout)
    except (TypeError, ValueError):
        seconds = 0
    if seconds <= 0:
        raise AppSpecError(
            f"Timeout needs to be a positive number: hooks.{event} {script['location']}"
        )
    runas = script.get("runas")
    return Script(str(script["location"]), seconds, str(runas) if runas else None)
