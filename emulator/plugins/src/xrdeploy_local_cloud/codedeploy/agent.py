"""The CodeDeploy agent's own work, run inside a local instance by the engine.

``python -I -m xrdeploy_local_cloud.codedeploy.agent COMMAND --root R --group G --deployment D``:

* ``unpack``: the bundle the engine wrote to ``R/G/D/bundle.tar`` → ``R/G/D/deployment-archive``
  (zip, tar or tgz; modes kept), then ``deployment-instructions/G_most_recent_install`` (the
  agent's DownloadBundle; keeps the 5 newest archives of the group, as the agent does);
* ``install``: the agent's Install (:mod:`.installer`), then ``G_last_successful_install``;
* ``hooks --events E1,E2``: the scripts of each lifecycle event, each checked (missing, made
  executable), from this deployment's archive or, for ApplicationStop and the BlockTraffic hooks
  before it is unpacked, from the last successful install's;
* ``run SCRIPT``: runs one hook script and prints its output as ``scripts.log`` lines
  (``<time> [stdout]…`` / ``[stderr]…``); exits with the script's code. The engine runs this one
  as the script's ``runas`` user with the script's timeout, and the instance kills the process
  group when it is exceeded.

Every command but ``run`` prints one JSON object on its last line of output.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading

    from xrdeploy_local_cloud.codedeploy import appspec

# Every lifecycle event of every instance starts this module in a process of its own (most of the
# local cloud's processes), so each command imports what only it needs when it runs: `run` and
# `hooks` start in about a third of the time the archive and YAML modules would add.

DEPLOYMENT_ROOT = "/opt/codedeploy-agent/deployment-root"
ARCHIVES_TO_RETAIN = 5
# The AppSpec's hooks, kept as JSON beside the archive when it is unpacked (the archive does not
# change after), so each event's `hooks` reads them without parsing YAML.
HOOKS_FILE = "appspec-hooks.json"
# Run from the last successful deployment's revision when this one is not unpacked yet.
FROM_LAST_SUCCESSFUL = ("BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop")


class AgentError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Layout:
    def __init__(self, root: str, group: str, deployment: str) -> None:
        self.root = Path(root)
        self.group = group
        self.deployment_dir = self.root / group / deployment
        self.archive = self.deployment_dir / "deployment-archive"
        self.instructions = self.root / "deployment-instructions"

    def marker(self, kind: str) -> Path:
        return self.instructions / f"{self.group}_{kind}"

    def last_successful(self) -> Path | None:
        marker = self.marker("last_successful_install")
        return Path(marker.read_text().strip()) if marker.is_file() else None


def unpack(layout: Layout) -> dict[str, Any]:
    import io
    import shutil
    import tarfile
    import zipfile

    bundle = layout.deployment_dir / "bundle.tar"
    shutil.rmtree(layout.archive, ignore_errors=True)
    layout.archive.mkdir(parents=True)
    data = bundle.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        _unzip(data, layout.archive)
    else:
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                archive.extractall(layout.archive, filter="tar")
        except tarfile.TarError as exc:
            raise AgentError(
                "UnknownError", f"The bundle is not a zip or tar archive: {exc}"
            ) from exc
    layout.instructions.mkdir(parents=True, exist_ok=True)
    layout.marker("most_recent_install").write_text(str(layout.deployment_dir))
    _record_hooks(layout.deployment_dir)
    _cleanup_old_archives(layout)
    return {"archive": str(layout.archive)}


def _record_hooks(deployment_dir: Path) -> None:
    """Keep the AppSpec's hooks in HOOKS_FILE. An AppSpec that is missing or does not parse is
    not recorded: the first event's `hooks` reads it again and reports it, as the agent does."""
    try:
        recorded = _appspec_hooks(deployment_dir)
    except AgentError:
        return
    (deployment_dir / HOOKS_FILE).write_text(json.dumps(recorded))


def _hook_scripts(deployment_dir: Path, event: str) -> list[dict[str, Any]]:
    recorded = deployment_dir / HOOKS_FILE
    hooks = (
        json.loads(recorded.read_text()) if recorded.is_file() else _appspec_hooks(deployment_dir)
    )
    scripts: list[dict[str, Any]] = hooks.get(event, [])
    return scripts


def _appspec_hooks(deployment_dir: Path) -> dict[str, list[dict[str, Any]]]:
    spec = read_appspec(deployment_dir / "deployment-archive")
    return {
        event: [
            {"location": script.location, "timeout": script.timeout, "runas": script.runas}
            for script in scripts
        ]
        for event, scripts in spec.hooks.items()
    }


def _unzip(data: bytes, target: Path) -> None:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            destination = (target / info.filename).resolve()
            if not destination.is_relative_to(target.resolve()):
                raise AgentError(
                    "UnknownError", f"Bundle entry outside the archive: {info.filename}"
                )
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o7777
            if mode:
                destination.chmod(mode)


def _cleanup_old_archives(layout: Layout) -> None:
    import shutil

    keep = {layout.deployment_dir, layout.last_successful()}
    others = sorted(
        (path for path in (layout.root / layout.group).iterdir() if path not in keep),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in others[ARCHIVES_TO_RETAIN - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def read_appspec(archive: Path) -> appspec.AppSpec:
    from xrdeploy_local_cloud.codedeploy import appspec

    for name in ("appspec.yml", "appspec.yaml"):
        if (archive / name).is_file():
            try:
                return appspec.parse((archive / name).read_text())
            except appspec.AppSpecError as exc:
                raise AgentError("UnknownError", str(exc)) from exc
    raise AgentError(
        "UnknownError",
        "The CodeDeploy agent did not find an AppSpec file within the unpacked revision "
        f'directory at revision-relative path "appspec.yml". The revision was unpacked to '
        f'directory "{archive}", and the AppSpec file was expected but not found at path '
        f'"{archive / "appspec.yml"}".',
    )


def install(layout: Layout, file_exists_behavior: str) -> dict[str, Any]:
    from xrdeploy_local_cloud.codedeploy import installer

    spec = read_appspec(layout.archive)
    behavior = spec.file_exists_behavior or file_exists_behavior
    layout.instructions.mkdir(parents=True, exist_ok=True)
    cleanup = layout.instructions / f"{layout.group}-cleanup"
    try:
        installer.remove_previous(cleanup)
        created = installer.install(spec, layout.archive, behavior)
    except installer.InstallError as exc:
        raise AgentError("UnknownError", str(exc)) from exc
    cleanup.write_text("".join(f"{path}\n" for path in created))
    layout.marker("last_successful_install").write_text(str(layout.deployment_dir))
    return {"installed": len(created)}


def hooks(layout: Layout, event: str) -> dict[str, Any]:
    deployment_dir: Path | None = layout.deployment_dir
    if event in FROM_LAST_SUCCESSFUL and not layout.archive.is_dir():
        deployment_dir = layout.last_successful()
    if deployment_dir is None or not (deployment_dir / "deployment-archive").is_dir():
        return {"deployment_dir": None, "scripts": []}
    archive = deployment_dir / "deployment-archive"
    scripts = []
    for script in _hook_scripts(deployment_dir, event):
        path = archive / script["location"]
        problem = None
        if not path.is_file():
            problem = "ScriptMissing"
        elif not os.access(path, os.X_OK):
            try:
                path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            except OSError:
                problem = "ScriptNotExecutable"
        scripts.append({**script, "path": str(path), "problem": problem})
    return {"deployment_dir": str(deployment_dir), "archive": str(archive), "scripts": scripts}


def hooks_of(layout: Layout, events: list[str]) -> dict[str, Any]:
    """:func:`hooks` of each event in one answer: the engine asks once for the events up to the
    next DownloadBundle (which replaces the archive they read), not once per event."""
    return {"events": {event: hooks(layout, event) for event in events}}


def run_script(path: str) -> int:
    """Run one hook script in this process group, its output labelled as the agent logs it."""
    import subprocess
    import threading

    process = subprocess.Popen(
        [path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lock = threading.Lock()
    assert process.stdout is not None and process.stderr is not None
    readers = [
        threading.Thread(target=_relay, args=(stream, label, lock))
        for stream, label in ((process.stdout, "[stdout]"), (process.stderr, "[stderr]"))
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    return process.wait()


def _relay(stream: IO[bytes], label: str, lock: threading.Lock) -> None:
    import datetime

    for raw in stream:
        line = raw.decode("utf-8", "replace")
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        with lock:
            sys.stdout.write(f"{stamp} {label}{line if line.endswith(chr(10)) else line + chr(10)}")
            sys.stdout.flush()


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="codedeploy-agent")
    parser.add_argument("command", choices=("unpack", "install", "hooks", "run"))
    parser.add_argument("script", nargs="?")
    parser.add_argument("--root", default=DEPLOYMENT_ROOT)
    parser.add_argument("--group", default="")
    parser.add_argument("--deployment", default="")
    parser.add_argument("--events", default="", help="comma-separated lifecycle events")
    parser.add_argument("--file-exists-behavior", default="DISALLOW")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    if args.command == "run":
        return run_script(args.script)
    layout = Layout(args.root, args.group, args.deployment)
    try:
        if args.command == "unpack":
            result = unpack(layout)
        elif args.command == "install":
            result = install(layout, args.file_exists_behavior)
        else:
            result = hooks_of(layout, args.events.split(","))
    except AgentError as exc:
        result = {"error": {"code": exc.code, "message": str(exc)}}
    except OSError as exc:
        result = {"error": {"code": "UnknownError", "message": str(exc)}}
    sys.stdout.write(json.dumps(result) + "\n")
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
