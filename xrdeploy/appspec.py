"""Checks a CodeDeploy revision directory before it is packaged (EC2/on-premises platform)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

# Lifecycle hooks a script may run in for an EC2/on-premises deployment (DownloadBundle and
# Install are reserved for the agent itself).
SCRIPTABLE_HOOKS = frozenset(
    {
        "ApplicationStop",
        "BeforeInstall",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
        "BeforeBlockTraffic",
        "AfterBlockTraffic",
        "BeforeAllowTraffic",
        "AfterAllowTraffic",
    }
)
MAX_HOOK_TIMEOUT = 3600  # CodeDeploy's limit for one script


def _hook_problems(root: Path, hook: str, scripts: Any) -> list[str]:
    if hook not in SCRIPTABLE_HOOKS:
        return [f"hooks.{hook}: not a lifecycle hook a script can run in"]
    if not isinstance(scripts, list) or not scripts:
        return [f"hooks.{hook}: must be a list of scripts"]
    problems = []
    for index, script in enumerate(scripts):
        where = f"hooks.{hook}[{index}]"
        if not isinstance(script, dict) or "location" not in script:
            problems.append(f"{where}: needs a location")
            continue
        path = root / str(script["location"])
        if not path.is_file():
            problems.append(f"{where}.location: {script['location']} does not exist")
        elif not os.access(path, os.X_OK):
            problems.append(f"{where}.location: {script['location']} is not executable")
        timeout = script.get("timeout", 3600)
        if not isinstance(timeout, int) or not 1 <= timeout <= MAX_HOOK_TIMEOUT:
            problems.append(f"{where}.timeout: must be 1-{MAX_HOOK_TIMEOUT} seconds")
    return problems


def _absolute(destination: str, os_name: object) -> bool:
    if os_name == "windows":  # C:\\inetpub or C:/inetpub
        return bool(re.match(r"^[A-Za-z]:[\\/]", destination))
    return destination.startswith("/")


def check_revision(root: Path, fleet_os: str | None = None) -> list[str]:
    """Problems that would make CodeDeploy reject or fail the revision; empty when fine.
    `fleet_os`: the OS the config's fleets run, which the appspec's `os` must name."""
    appspec = root / "appspec.yml"
    if not appspec.is_file():
        return ["appspec.yml is missing at the top of the revision"]
    try:
        spec = yaml.safe_load(appspec.read_text())
    except yaml.YAMLError as exc:
        return [f"appspec.yml is not valid YAML: {exc}"]
    if not isinstance(spec, dict):
        return ["appspec.yml must be a mapping"]
    problems = []
    if str(spec.get("version")) != "0.0":
        problems.append("appspec.yml version: must be 0.0")
    if spec.get("os") not in {"linux", "windows"}:
        problems.append("appspec.yml os: must be linux or windows")
    elif fleet_os is not None and spec["os"] != fleet_os:
        problems.append(
            f"appspec.yml os: {spec['os']}, but the config's fleets run {fleet_os} (fleet.os)"
        )
    for index, entry in enumerate(spec.get("files") or []):
        source = root / str(entry.get("source", ""))
        if not source.exists():
            problems.append(f"files[{index}].source: {entry.get('source')} does not exist")
        if not _absolute(str(entry.get("destination", "")), spec.get("os")):
            problems.append(f"files[{index}].destination: must be an absolute path")
    for hook, scripts in (spec.get("hooks") or {}).items():
        problems += _hook_problems(root, str(hook), scripts)
    return problems
