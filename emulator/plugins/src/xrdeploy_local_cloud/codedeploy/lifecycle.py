"""One instance of a deployment, driven through the agent's lifecycle events.

The service's side of the agent protocol: for each event the engine asks the instance to do the
agent's work (:mod:`.agent`, run inside the instance) and records the outcome as the agent
reports it: status, times and diagnostics (error code, script name, message, the last 2 KB of
script output). A failed event fails the instance and skips its remaining events.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from xrdeploy_local_cloud.codedeploy import model

AGENT_MODULE = "xrdeploy_local_cloud.codedeploy.agent"
DEPLOYMENT_ROOT = "/opt/codedeploy-agent/deployment-root"
LOG_TAIL_BYTES = 2048
AGENT_TIMEOUT = 300.0
STOP_EVENTS = ("BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop")
# The events that are the agent's own file work; every other one that is not the service's
# traffic step runs the AppSpec's hook scripts.
AGENT_STEPS = ("DownloadBundle", "Install")
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
_STAMP = len("2026-01-01 00:00:00 ")


class RunResultLike(Protocol):
    # Read-only, so that frozen dataclasses (the instances' own results) satisfy it.
    @property
    def exit_code(self) -> int | None: ...

    @property
    def output(self) -> str: ...

    @property
    def timed_out(self) -> bool: ...


class InstanceLike(Protocol):
    def run(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        timeout: float,
        user: str = "root",
    ) -> RunResultLike: ...

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None: ...

    def read_file(self, path: str) -> bytes: ...


class EventFailed(Exception):
    def __init__(self, code: str, message: str, script: str = "", log_tail: str = "") -> None:
        super().__init__(message)
        self.diagnostics = {
            "errorCode": code,
            "scriptName": script,
            "message": message,
            "logTail": log_tail,
        }


class InstanceRun:
    """Runs the lifecycle of one deployment on one instance."""

    def __init__(
        self,
        deployment: model.Deployment,
        record: model.InstanceRecord,
        instance: InstanceLike,
        fetch_bundle: Callable[[], bytes],
    ) -> None:
        self.deployment = deployment
        self.record = record
        self.instance = instance
        self.fetch_bundle = fetch_bundle
        self.deployment_dir = f"{DEPLOYMENT_ROOT}/{deployment.group_id}/{deployment.deployment_id}"
        self._logs: dict[str, str] = {}
        self._hook_answers: dict[str, dict[str, Any]] = {}

    def run(self) -> None:
        with self.deployment.lock:
            self.record.set_status("InProgress")
        for event in self.record.events:
            if self.deployment.stop_requested.is_set():
                self._finish("Skipped")
                return
            if not self._event(event):
                self._finish("Failed")
                return
        self._finish("Succeeded")

    def _finish(self, status: str) -> None:
        with self.deployment.lock:
            self.record.skip_rest()
            self.record.set_status(status)

    def _event(self, event: model.LifecycleEventRecord) -> bool:
        with self.deployment.lock:
            event.status, event.start_time = "InProgress", model.now()
        ok, diagnostics = True, None
        if event.name in model.TRAFFIC_EVENTS:
            status = "Skipped"  # no load balancer: nothing to block or allow
        else:
            try:
                log_tail = self._work(event.name)
                diagnostics = _diagnostics("Success", "", "Succeeded", log_tail)
                status = "Succeeded"
            except EventFailed as failure:
                diagnostics = failure.diagnostics
                ignored = (
                    event.name in STOP_EVENTS and self.deployment.ignore_application_stop_failures
                )
                status, ok = ("Succeeded", True) if ignored else ("Failed", False)
        with self.deployment.lock:
            event.status, event.end_time, event.diagnostics = status, model.now(), diagnostics
        return ok

    def _work(self, name: str) -> str:
        try:
            return self._agent_work(name)
        except EventFailed:
            raise
        except Exception as exc:  # the instance itself failed (e.g. its sandbox died)
            raise EventFailed("UnknownError", f"The local instance failed: {exc}") from exc

    def _agent_work(self, name: str) -> str:
        if name == "DownloadBundle":
            try:
                bundle = self.fetch_bundle()
            except Exception as exc:  # the agent reports any download error as UnknownError
                raise EventFailed("UnknownError", str(exc)) from exc
            self.instance.write_file(f"{self.deployment_dir}/bundle.tar", bundle, 0o644)
            self._agent("unpack")
            return ""
        if name == "Install":
            self._agent("install", "--file-exists-behavior", self.deployment.file_exists_behavior)
            return ""
        return self._hooks(name)

    def _agent(self, *args: str) -> dict[str, Any]:
        deployment = self.deployment
        argv = [sys.executable, "-I", "-m", AGENT_MODULE, args[0], "--root", DEPLOYMENT_ROOT]
        argv += ["--group", deployment.group_id, "--deployment", deployment.deployment_id]
        result = self.instance.run([*argv, *args[1:]], env=BASE_ENV, cwd="/", timeout=AGENT_TIMEOUT)
        lines = result.output.strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict) or not answer:
            raise EventFailed(
                "UnknownError", f"The agent failed: {result.output[-LOG_TAIL_BYTES:]}"
            )
        if "error" in answer:
            raise EventFailed(answer["error"]["code"], answer["error"]["message"])
        return answer

    def _hook_scripts(self, event: str) -> dict[str, Any]:
        """The agent's `hooks` answer for `event`. One agent process answers it and the hook
        events after it up to the next DownloadBundle, which replaces the archive they read (a
        process per event made most of the local cloud's processes)."""
        if event not in self._hook_answers:
            names = [e.name for e in self.record.events]
            batch = []
            for name in names[names.index(event) :]:
                if name == "DownloadBundle":
                    break
                if name not in model.TRAFFIC_EVENTS and name not in AGENT_STEPS:
                    batch.append(name)
            self._hook_answers.update(self._agent("hooks", "--events", ",".join(batch))["events"])
        return self._hook_answers[event]

    def _hooks(self, event: str) -> str:
        found = self._hook_scripts(event)
        scripts = found.get("scripts") or []
        if not scripts:
            return ""
        log_path = f"{found['deployment_dir']}/logs/scripts.log"
        tail = _Tail()
        self._log(log_path, f"LifecycleEvent - {event}\n", tail)
        for script in scripts:
            location, runas = script["location"], script.get("runas")
            if script.get("problem") == "ScriptMissing":
                raise EventFailed(
                    "ScriptMissing",
                    f"Script does not exist at specified location: {location}",
                    location,
                    tail.text(),
                )
            if script.get("problem") == "ScriptNotExecutable":
                raise EventFailed(
                    "ScriptNotExecutable",
                    f"Unable to set script at specified location: {location} as executable",
                    location,
                    tail.text(),
                )
            self._log(log_path, f"Script - {location}\n", tail)
            result = self.instance.run(
                [sys.executable, "-I", "-m", AGENT_MODULE, "run", script["path"]],
                env={**BASE_ENV, **self._hook_env(event)},
                cwd=found["archive"],
                timeout=float(script["timeout"]),
                user=runas or "root",
            )
            self._log(log_path, result.output, tail, stamped=True)
            _check(result, location, runas, script["timeout"], tail)
        return tail.text()

    def _hook_env(self, event: str) -> dict[str, str]:
        deployment = self.deployment
        env = {
            "LIFECYCLE_EVENT": event,
            "DEPLOYMENT_ID": deployment.deployment_id,
            "APPLICATION_NAME": deployment.application_name,
            "DEPLOYMENT_GROUP_NAME": deployment.group_name,
            "DEPLOYMENT_GROUP_ID": deployment.group_id,
        }
        s3 = deployment.revision.get("s3Location") or {}
        for name, key in (("BUCKET", "bucket"), ("KEY", "key"), ("VERSION", "version")):
            if s3.get(key):
                env[f"BUNDLE_{name}"] = str(s3[key])
        if s3.get("eTag"):
            env["BUNDLE_ETAG"] = str(s3["eTag"])
        return env

    def _log(self, path: str, text: str, tail: _Tail, *, stamped: bool = False) -> None:
        """Append to the instance's scripts.log; the tail keeps what the agent reports."""
        if not text:
            return
        lines = text.splitlines(keepends=True)
        if stamped:
            tail.add("".join(line[_STAMP:] for line in lines))
            entry = text if text.endswith("\n") else text + "\n"
        else:
            tail.add(text)
            entry = f"{model.now().strftime('%Y-%m-%d %H:%M:%S')} {text}"
        if path not in self._logs:
            try:
                self._logs[path] = self.instance.read_file(path).decode("utf-8", "replace")
            except Exception:  # not there yet; the instance's own error type is not ours to know
                self._logs[path] = ""
        self._logs[path] += entry
        self.instance.write_file(path, self._logs[path].encode(), 0o644)


class _Tail:
    def __init__(self) -> None:
        self._text = ""

    def add(self, text: str) -> None:
        self._text = (self._text + text)[-LOG_TAIL_BYTES:]

    def text(self) -> str:
        return self._text


def _check(
    result: RunResultLike, location: str, runas: str | None, timeout: float, tail: _Tail
) -> None:
    if result.timed_out:
        raise EventFailed(
            "ScriptTimedOut",
            f"Script at specified location: {location} failed to complete in {timeout:g} seconds",
            location,
            tail.text(),
        )
    if result.exit_code == 0:
        return
    if result.exit_code is None:
        raise EventFailed(
            "UnknownError",
            f"Script at specified location: {location} was killed",
            location,
            tail.text(),
        )
    user = f" run as user {runas}" if runas else ""
    raise EventFailed(
        "ScriptFailed",
        f"Script at specified location: {location}{user} failed with exit code {result.exit_code}",
        location,
        tail.text(),
    )


def _diagnostics(code: str, script: str, message: str, log_tail: str) -> dict[str, str]:
    return {"errorCode": code, "scriptName": script, "message": message, "logTail": log_tail}
