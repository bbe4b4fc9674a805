"""``systemctl`` verbs of the service-manager stand-in, with systemctl's exit codes and messages:
start, stop, restart, try-restart, reload, reload-or-restart, enable, disable (both with
``--now``), is-active, is-enabled, is-failed, status, daemon-reload. ``reload`` restarts (the
stand-in services have no reload of their own); ``Restart=`` policies are not applied."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from xrdeploy_local_cloud.instances import units

if TYPE_CHECKING:
    from xrdeploy_local_cloud.instances.services import Supervisor

ENABLE_ROOT = Path("/etc/systemd/system")
_IGNORED_FLAGS = ("--no-pager", "--no-block", "--full", "-l", "--system", "--no-ask-password")
# systemctl's LSB-style exit codes
NOT_ACTIVE = 3
NO_SUCH_UNIT = 4
NOT_FOUND = 5


def _enable(name: str, out: list[str]) -> None:
    unit = units.load(name)
    for target in unit.wanted_by:
        link = ENABLE_ROOT / f"{target}.wants" / unit.name
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(unit.path)
            out.append(f"Created symlink {link} → {unit.path}.")


def _disable(name: str, out: list[str]) -> None:
    full = units.unit_name(name)
    for link in ENABLE_ROOT.glob(f"*.wants/{full}"):
        link.unlink()
        out.append(f'Removed "{link}".')


def _enabled(name: str) -> bool:
    return any(ENABLE_ROOT.glob(f"*.wants/{units.unit_name(name)}"))


def _status(supervisor: Supervisor, name: str, out: list[str]) -> int:
    full = units.unit_name(name)
    path = units.find(full)
    if path is None:
        out.append(f"Unit {full} could not be found.")
        return NO_SUCH_UNIT
    running = supervisor.state(full)
    state = running.state if running else "inactive"
    preset = "enabled" if _enabled(full) else "disabled"
    out.append(f"● {full} (local instance stand-in service)")
    out.append(f"     Loaded: loaded ({path}; {preset})")
    if running is not None and state == "active":
        since = datetime.datetime.fromtimestamp(running.since, datetime.UTC)
        since_text = since.strftime("%a %Y-%m-%d %H:%M:%S UTC")
        out.append(f"     Active: active (running) since {since_text}")
        out.append(f"   Main PID: {running.pid}")
    else:
        result = f" (Result: {running.result})" if running and running.result else ""
        out.append(f"     Active: {state}{result}")
    log = Path("/var/log/xrdeploy-services") / f"{full}.log"
    if log.is_file():
        out.append("")
        out.extend(log.read_text(errors="replace").splitlines()[-10:])
    return 0 if state == "active" else NOT_ACTIVE


def _each(names: list[str], action: Callable[[str], None], verb: str, out: list[str]) -> int:
    code = 0
    for name in names:
        try:
            action(name)
        except units.UnitError as error:
            message = str(error)
            if message.startswith("Unit "):
                message = f"Failed to {verb} {units.unit_name(name)}: {message}"
                code = NOT_FOUND
            else:
                code = 1
            out.append(message)
        except OSError as error:
            out.append(f"Failed to {verb} {units.unit_name(name)}: {error}")
            code = 1
    return code


def _query(supervisor: Supervisor, verb: str, names: list[str], out: list[str]) -> int:
    code = NOT_ACTIVE if verb == "is-active" else 1
    for name in names:
        running = supervisor.state(name)
        state = running.state if running else "inactive"
        if verb == "is-enabled":
            state = "enabled" if _enabled(name) else "disabled"
            hit = state == "enabled"
        else:
            hit = state == ("active" if verb == "is-active" else "failed")
        out.append(state)
        code = 0 if hit else code
    return code


def run(supervisor: Supervisor, argv: list[str]) -> tuple[int, str]:
    quiet = "-q" in argv or "--quiet" in argv
    now = "--now" in argv
    words = [a for a in argv if a not in (*_IGNORED_FLAGS, "-q", "--quiet", "--now")]
    if not words:
        return 1, "systemctl (stand-in): a verb is required\n"
    verb, names = words[0], words[1:]
    out: list[str] = []

    def restart(name: str) -> None:
        supervisor.stop(name)
        supervisor.start(name)

    def try_restart(name: str) -> None:
        running = supervisor.state(name)
        if running is not None and running.state == "active":
            restart(name)

    def enable(name: str) -> None:
        _enable(name, out)
        if now:
            supervisor.start(name)

    def disable(name: str) -> None:
        _disable(name, out)
        if now:
            supervisor.stop(name)

    actions: dict[str, Callable[[str], None]] = {
        "start": supervisor.start,
        "stop": supervisor.stop,
        "restart": restart,
        "reload": restart,
        "reload-or-restart": restart,
        "try-restart": try_restart,
        "enable": enable,
        "disable": disable,
    }
    if verb == "daemon-reload":
        code = 0
    elif verb in actions:
        if not names:
            return 1, "Too few arguments.\n"
        code = _each(names, actions[verb], verb, out)
    elif verb in ("is-active", "is-enabled", "is-failed"):
        code = _query(supervisor, verb, names, out)
    elif verb == "status":
        code = max((_status(supervisor, name, out) for name in names), default=0)
    else:
        return 1, f"systemctl (stand-in of the local instance): '{verb}' is not supported\n"
    text = "" if quiet and verb.startswith("is-") else "\n".join(out)
    return code, text + ("\n" if text else "")
