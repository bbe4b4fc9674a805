"""Runs deployments: instances in waves as the deployment config allows, alarms, rollbacks.

A deployment goes Created → InProgress → Succeeded | Failed | Stopped in a thread of its own;
the API only reads what the thread records. When it fails (or is stopped by an alarm or by
StopDeployment) and the group's automatic rollback covers that event, a *new* deployment of the
group's last successful revision starts (creator ``codeDeployRollback``), linked both ways by
``rollbackInfo``; a rollback deployment itself never rolls back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from xrdeploy_local_cloud.codedeploy import configs, events, lifecycle, model

LOG = logging.getLogger(__name__)
ALARM_POLL_SECONDS = 1.0
HEALTH_CONSTRAINTS = (
    "The overall deployment failed because too many individual instances failed deployment, "
    "too few healthy instances are available for deployment, or some instances in your "
    "deployment group are experiencing problems."
)
NO_INSTANCES = (
    "The deployment failed because no instances were found for your deployment group. Check "
    "your deployment group settings to make sure the tags for your Amazon EC2 instances or Auto "
    "Scaling groups correctly identify the instances you want to deploy to, and then try again."
)


class InstanceSpecLike(Protocol):
    @property
    def instance_id(self) -> str: ...
    @property
    def instance_type(self) -> str: ...


class Cloud(Protocol):
    """What the engine needs from the rest of the local cloud (see :mod:`.cloud`)."""

    def unsupported_reason(self) -> str | None: ...

    def instances(
        self, state: model.RegionState, group: model.DeploymentGroup
    ) -> Sequence[InstanceSpecLike]: ...

    def instance(self, spec: Any) -> lifecycle.InstanceLike: ...

    def bundle(self, state: model.RegionState, revision: dict[str, Any], spec: Any) -> bytes: ...

    def alarms_in_alarm(self, state: model.RegionState, names: Sequence[str]) -> list[str]: ...


def start(state: model.RegionState, deployment: model.Deployment, cloud: Cloud) -> None:
    thread = threading.Thread(
        target=run, args=(state, deployment, cloud), name=deployment.deployment_id, daemon=True
    )
    thread.start()


def run(state: model.RegionState, deployment: model.Deployment, cloud: Cloud) -> None:
    try:
        _run(state, deployment, cloud)
    except Exception as exc:  # a bug here must still end the deployment, as AWS never hangs
        LOG.exception("deployment %s failed unexpectedly", deployment.deployment_id)
        _finish(state, deployment, "Failed", _error("INTERNAL_ERROR", f"Internal error: {exc}"))


def _run(state: model.RegionState, deployment: model.Deployment, cloud: Cloud) -> None:
    group = state.groups[(deployment.application_name, deployment.group_name)]
    with deployment.lock:
        deployment.status, deployment.start_time = "InProgress", model.now()
    events.deployment_changed(state, deployment, "InProgress")
    group.last_attempted = deployment.deployment_id
    reason = cloud.unsupported_reason()
    if reason is not None:
        message = f"Local instances cannot run on this host: {reason}"
        _conclude(state, group, deployment, cloud, _error("AGENT_ISSUE", message))
        return
    specs = sorted(cloud.instances(state, group), key=lambda spec: spec.instance_id)
    if not specs:
        _conclude(state, group, deployment, cloud, _error("NO_INSTANCES", NO_INSTANCES))
        return
    with deployment.lock:
        for spec in specs:
            deployment.instances[spec.instance_id] = model.InstanceRecord(
                spec.instance_id, _target_arn(state, spec.instance_id), spec.instance_type
            )
    health = configs.plan(state.config(deployment.config_name), len(specs))
    if not health.satisfiable:
        error = _error("HEALTH_CONSTRAINTS_INVALID", _invalid(health))
        _conclude(state, group, deployment, cloud, error)
        return
    watcher = _AlarmWatcher(state, group, deployment, cloud)
    watcher.start()
    try:
        failed = _waves(state, deployment, cloud, specs, health)
    finally:
        watcher.stop()
    outcome = _error("HEALTH_CONSTRAINTS", _failure_message(deployment)) if failed else None
    _conclude(state, group, deployment, cloud, outcome)


def _waves(
    state: model.RegionState,
    deployment: model.Deployment,
    cloud: Cloud,
    specs: Sequence[Any],
    health: configs.HealthPlan,
) -> bool:
    """Deploy wave by wave; True when the minimum healthy hosts can no longer be met."""
    done = 0
    for first in range(0, len(specs), health.batch_size):
        if deployment.stop_requested.is_set():
            break
        wave = specs[first : first + health.batch_size]
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            list(pool.map(lambda spec: _instance(state, deployment, cloud, spec), wave))
        done += len(wave)
        failed = sum(1 for r in deployment.instances.values() if r.status == "Failed")
        if health.doomed(failed, done):
            return True
    succeeded = sum(1 for r in deployment.instances.values() if r.status == "Succeeded")
    return not deployment.stop_requested.is_set() and not health.succeeded(succeeded)


def _instance(
    state: model.RegionState, deployment: model.Deployment, cloud: Cloud, spec: Any
) -> None:
    record = deployment.instances[spec.instance_id]
    try:
        instance = cloud.instance(spec)
    except Exception as exc:  # the sandbox would not start: the agent never answers
        LOG.warning("instance %s did not start: %s", spec.instance_id, exc)
        with deployment.lock:
            record.events[0].status = "Failed"
            record.events[0].diagnostics = {
                "errorCode": "UnknownError",
                "scriptName": "",
                "message": f"The local instance did not start: {exc}",
                "logTail": "",
            }
            record.skip_rest()
            record.set_status("Failed")
        return
    fetch: Callable[[], bytes] = lambda: cloud.bundle(state, deployment.revision, spec)  # noqa: E731
    events.instance_changed(state, deployment, record, "InProgress")
    lifecycle.InstanceRun(deployment, record, instance, fetch).run()
    events.instance_changed(state, deployment, record, record.status)


def _conclude(
    state: model.RegionState,
    group: model.DeploymentGroup,
    deployment: model.Deployment,
    cloud: Cloud,
    error: dict[str, str] | None,
) -> None:
    with deployment.lock:
        for record in deployment.instances.values():
            if record.status == "Pending":
                record.skip_rest()
                record.set_status("Skipped")
    if deployment.stop_requested.is_set():
        stop_error = deployment.stop_error or _error("MANUAL_STOP", "The deployment was stopped.")
        if deployment.stop_rollback:
            _roll_back(state, group, deployment, cloud)
        _finish(state, deployment, "Stopped", stop_error)
        return
    if error is None:
        group.last_successful = deployment.deployment_id
        _finish(state, deployment, "Succeeded")
        return
    if "DEPLOYMENT_FAILURE" in deployment.rollback_events():
        _roll_back(state, group, deployment, cloud)
    _finish(state, deployment, "Failed", error)


def _finish(
    state: model.RegionState,
    deployment: model.Deployment,
    status: str,
    error: dict[str, str] | None = None,
) -> None:
    deployment.finish(status, error)
    events.deployment_changed(state, deployment, status)


def _roll_back(
    state: model.RegionState,
    group: model.DeploymentGroup,
    failed: model.Deployment,
    cloud: Cloud,
) -> None:
    if failed.creator == "codeDeployRollback":
        return
    last = state.deployments.get(group.last_successful or "")
    if last is None:
        failed.rollback_info = {
            "rollbackMessage": "Automatic rollback was not started: the deployment group has "
            "no earlier successful deployment."
        }
        return
    rollback = model.Deployment(
        deployment_id=model.new_deployment_id(),
        application_name=failed.application_name,
        group_name=failed.group_name,
        group_id=failed.group_id,
        config_name=failed.config_name,
        revision=last.revision,
        creator="codeDeployRollback",
        ignore_application_stop_failures=failed.ignore_application_stop_failures,
        auto_rollback=failed.auto_rollback,
        file_exists_behavior=failed.file_exists_behavior,
        previous_revision=last.revision,
        rollback_info={"rollbackTriggeringDeploymentId": failed.deployment_id},
    )
    with state.lock:
        state.deployments[rollback.deployment_id] = rollback
    failed.rollback_info = {
        "rollbackDeploymentId": rollback.deployment_id,
        "rollbackMessage": f"Automatic rollback started: deployment {rollback.deployment_id} "
        f"redeploys the revision of {last.deployment_id}.",
    }
    LOG.info("deployment %s rolls back with %s", failed.deployment_id, rollback.deployment_id)
    # Starts once this deployment has ended: one deployment per group at a time.
    threading.Thread(
        target=_after,
        args=(failed, state, rollback, cloud),
        name=rollback.deployment_id,
        daemon=True,
    ).start()


def _after(
    failed: model.Deployment, state: model.RegionState, rollback: model.Deployment, cloud: Cloud
) -> None:
    failed.finished.wait()
    run(state, rollback, cloud)


class _AlarmWatcher:
    """Polls the group's alarms while the deployment runs; ALARM stops it (ALARM_ACTIVE)."""

    def __init__(
        self,
        state: model.RegionState,
        group: model.DeploymentGroup,
        deployment: model.Deployment,
        cloud: Cloud,
    ) -> None:
        settings = group.settings.get("alarmConfiguration") or {}
        self.names = [a["name"] for a in settings.get("alarms") or [] if a.get("name")]
        # A rollback that an alarm started would be stopped by that same alarm at once, which
        # would make DEPLOYMENT_STOP_ON_ALARM useless: rollback deployments are not watched.
        self.enabled = (
            bool(settings.get("enabled"))
            and bool(self.names)
            and deployment.creator != "codeDeployRollback"
        )
        self.state, self.deployment, self.cloud = state, deployment, cloud
        self.ignore_poll_failure = bool(settings.get("ignorePollAlarmFailure"))
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._poll, name=f"{deployment.deployment_id}-alarms", daemon=True
        )

    def start(self) -> None:
        if self.enabled:
            self._check()
            self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _poll(self) -> None:
        while not self._done.wait(ALARM_POLL_SECONDS):
            self._check()

    def _check(self) -> None:
        if self.deployment.stop_requested.is_set():
            return
        try:
            active = self.cloud.alarms_in_alarm(self.state, self.names)
        except Exception as exc:  # CloudWatch did not answer: AWS stops unless told to ignore it
            if self.ignore_poll_failure:
                LOG.warning("alarms %s not read, ignored: %s", self.names, exc)
                return
            self._stop(
                "The deployment was stopped because the alarm configuration could not be "
                f"read from Amazon CloudWatch: {exc}"
            )
            return
        if active:
            self._stop(
                "One or more alarms have been activated according to the Amazon CloudWatch "
                "metrics you selected, and the affected deployments have been stopped. "
                "Activated alarms: " + ", ".join(active)
            )

    def _stop(self, message: str) -> None:
        deployment = self.deployment
        deployment.stop_error = _error("ALARM_ACTIVE", message)
        deployment.stop_rollback = "DEPLOYMENT_STOP_ON_ALARM" in deployment.rollback_events()
        deployment.stop_requested.set()


def _target_arn(state: model.RegionState, instance_id: str) -> str:
    """An on-premises instance's own ARN; an EC2 instance's ARN in EC2's namespace."""
    on_premises = state.on_premises.get(instance_id)
    if on_premises is not None:
        return on_premises.arn
    return state.arn(f"instance/{instance_id}").replace(":codedeploy:", ":ec2:")


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _invalid(health: configs.HealthPlan) -> str:
    return (
        "The deployment failed because the deployment configuration requires "
        f"{health.minimum_healthy} healthy instances during the deployment, and the deployment "
        f"group has {health.instances}: no instance can be taken offline."
    )


def _failure_message(deployment: model.Deployment) -> str:
    """AWS's message, plus what the first failed instance reported (the console shows it there)."""
    for record in deployment.instances.values():
        event = record.first_failure()
        if event is None or not event.diagnostics:
            continue
        d = event.diagnostics
        detail = f" {record.instance_id}: {event.name} failed ({d['errorCode']}): {d['message']}"
        if d.get("logTail"):
            detail += f". Script output (last 2 KB): {d['logTail'].rstrip()}"
        return HEALTH_CONSTRAINTS + detail
    return HEALTH_CONSTRAINTS
