"""The deployment engine, the agent's lifecycle and the agent's file work, on fake instances.

A fake instance runs the real agent module as a local process, with every absolute path the agent
uses (deployment root, appspec destinations) under the test's own directory, so the whole
lifecycle runs here without a sandbox: unpack, cleanup, files, hooks, scripts.log, rollbacks.
"""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from xrdeploy_local_cloud.codedeploy import control, deployments, engine, model
from xrdeploy_local_cloud.kit.errors import ServiceError

ROOT = "/opt/codedeploy-agent"


@dataclasses.dataclass(frozen=True)
class Spec:
    instance_id: str
    instance_type: str = "t3.micro"


@dataclasses.dataclass(frozen=True)
class Result:
    exit_code: int | None
    output: str
    timed_out: bool


class FakeInstance:
    """The LocalInstance interface over a directory standing in for the instance's filesystem."""

    def __init__(self, base: Path, instance_id: str) -> None:
        self.base, self.instance_id = base, instance_id
        self.users: list[str] = []
        self.agent_commands: list[str] = []  # each agent process's command (unpack, hooks...)
        base.mkdir(parents=True, exist_ok=True)

    def path(self, path: str) -> Path:
        if Path(path).is_relative_to(self.base):  # already mapped (the agent answers with these)
            return Path(path)
        return self.base / path.lstrip("/")

    def _map(self, argument: str) -> str:
        if argument.startswith(ROOT):
            return str(self.path(argument))
        return argument

    def run(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        timeout: float,
        user: str = "root",
    ) -> Result:
        self.users.append(user)
        self.agent_commands.append(argv[4])  # python -I -m <agent> COMMAND ...
        # The agent's own command line, on this interpreter: the plugin package is installed here.
        command = [sys.executable, *[self._map(a) for a in argv[1:]]]
        environment = {**env, "INSTANCE_ID": self.instance_id}
        process = subprocess.Popen(
            command,
            env=environment,
            cwd=self._map(cwd) if cwd != "/" else str(self.base),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            output, _ = process.communicate()
            return Result(None, output.decode(), True)
        return Result(process.returncode, output.decode(), False)

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        target = self.path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)

    def read_file(self, path: str) -> bytes:
        return self.path(path).read_bytes()


class FakeCloud:
    def __init__(self, base: Path, instance_ids: list[str], reason: str | None = None) -> None:
        self.instances_by_id = {i: FakeInstance(base / i, i) for i in instance_ids}
        self.bundles: dict[str, bytes] = {}
        self.alarming: list[str] = []
        self.alarm_error = ""
        self.reason = reason

    def unsupported_reason(self) -> str | None:
        return self.reason

    def instances(self, state: model.RegionState, group: model.DeploymentGroup) -> list[Spec]:
        return [Spec(i) for i in self.instances_by_id]

    def instance(self, spec: Any) -> FakeInstance:
        return self.instances_by_id[spec.instance_id]

    def bundle(self, state: model.RegionState, revision: dict[str, Any], spec: Any) -> bytes:
        return self.bundles[revision["s3Location"]["key"]]

    def alarms_in_alarm(self, state: model.RegionState, names: Any) -> list[str]:
        if self.alarm_error:
            raise RuntimeError(self.alarm_error)
        return [name for name in names if name in self.alarming]


def revision_zip(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def appspec(dest: Path, hooks: str, behavior: str = "OVERWRITE") -> str:
    return (
        f"version: 0.0\nos: linux\nfile_exists_behavior: {behavior}\n"
        f"files:\n  - source: site/\n    destination: {dest}\nhooks:\n{hooks}"
    )


def hook(event: str, script: str, timeout: int = 30) -> str:
    return f"  {event}:\n    - location: {script}\n      timeout: {timeout}\n"


@dataclasses.dataclass
class World:
    state: model.RegionState
    cloud: FakeCloud
    base: Path

    @property
    def dest(self) -> Path:
        """Where revisions install their site: a real directory the agent writes to directly."""
        return self.base / "srv"

    def start(self, key: str, files: Mapping[str, str], **request: Any) -> model.Deployment:
        self.cloud.bundles[key] = revision_zip(files)
        revision = {
            "revisionType": "S3",
            "s3Location": {"bucket": "b", "key": key, "bundleType": "zip"},
        }
        answer = deployments.create_deployment(
            self.state,
            {
                "applicationName": "app",
                "deploymentGroupName": "group",
                "revision": revision,
                **request,
            },
            self.cloud,
        )
        return self.state.deployments[answer["deploymentId"]]

    def deploy(self, key: str, files: Mapping[str, str], **request: Any) -> model.Deployment:
        deployment = self.start(key, files, **request)
        assert deployment.finished.wait(60)
        return deployment

    def rollback_of(self, deployment: model.Deployment) -> model.Deployment:
        assert deployment.rollback_info is not None
        rollback = self.state.deployments[deployment.rollback_info["rollbackDeploymentId"]]
        assert rollback.finished.wait(60)
        return rollback


def make_world(tmp_path: Path, instance_ids: list[str], config: str, **settings: Any) -> World:
    state = model.RegionState(account_id="111111111111", region="us-west-2")
    control.create_application(state, {"applicationName": "app"})
    app = state.applications["app"]
    group_settings = {"deploymentConfigName": config, **settings}
    state.groups[("app", "group")] = model.DeploymentGroup(app.name, "group", group_settings)
    return World(state, FakeCloud(tmp_path, instance_ids), tmp_path)


def site(version: str, validate: str = "exit 0") -> dict[str, str]:
    return {
        "site/index.html": f"<p>{version}</p>\n",
        "scripts/validate.sh": f"#!/bin/sh\necho validating {version}\n{validate}\n",
        "scripts/stop.sh": f"#!/bin/sh\necho stopping {version}\n",
    }


def good_and_bad(world: World) -> tuple[dict[str, str], dict[str, str]]:
    hooks = hook("ApplicationStop", "scripts/stop.sh") + hook(
        "ValidateService", "scripts/validate.sh"
    )
    good = {**site("v1"), "appspec.yml": appspec(world.dest, hooks)}
    bad = {**site("v2", "echo broken >&2; exit 3"), "appspec.yml": appspec(world.dest, hooks)}
    return good, bad


ROLLBACK = {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}


def test_a_good_revision_runs_every_lifecycle_event_in_the_agents_order(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce")
    good, _ = good_and_bad(world)
    deployment = world.deploy("v1.zip", good)
    assert deployment.status == "Succeeded", deployment.error
    record = deployment.instances["i-1"]
    assert [e.name for e in record.events] == list(model.LIFECYCLE_EVENTS)
    statuses = {e.name: e.status for e in record.events}
    assert statuses["BlockTraffic"] == statuses["AllowTraffic"] == "Skipped"
    assert statuses["ValidateService"] == statuses["Install"] == "Succeeded"
    fake = world.cloud.instances_by_id["i-1"]
    log = fake.path(
        f"{ROOT}/deployment-root/{deployment.group_id}/{deployment.deployment_id}/logs/scripts.log"
    )
    assert "[stdout]validating v1" in log.read_text()
    assert (world.dest / "index.html").read_text() == "<p>v1</p>\n"
    assert world.state.groups[("app", "group")].last_successful == deployment.deployment_id
    # One agent process answers the hook events before DownloadBundle, one those after it (the
    # events the unpacked archive serves), not one per event.
    assert fake.agent_commands == ["hooks", "unpack", "hooks", "install", "run"]


def test_a_failing_validate_service_fails_and_rolls_back_to_the_last_good_revision(
    tmp_path: Path,
) -> None:
    world = make_world(
        tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce", autoRollbackConfiguration=ROLLBACK
    )
    good, bad = good_and_bad(world)
    first = world.deploy("v1.zip", good)
    failed = world.deploy("v2.zip", bad)
    assert failed.status == "Failed"
    assert failed.error is not None and failed.error["code"] == "HEALTH_CONSTRAINTS"
    assert "ScriptFailed" in failed.error["message"] and "broken" in failed.error["message"]
    event = failed.instances["i-1"].first_failure()
    assert event is not None and event.name == "ValidateService" and event.diagnostics
    assert event.diagnostics["errorCode"] == "ScriptFailed"
    assert "[stderr]broken" in event.diagnostics["logTail"]
    # ApplicationStop ran the last successful revision's script (v1), from its own archive.
    stop = next(e for e in failed.instances["i-1"].events if e.name == "ApplicationStop")
    assert stop.diagnostics and "stopping v1" in stop.diagnostics["logTail"]
    rollback = world.rollback_of(failed)
    assert rollback.creator == "codeDeployRollback"
    assert rollback.rollback_info == {"rollbackTriggeringDeploymentId": failed.deployment_id}
    assert rollback.revision == first.revision and rollback.status == "Succeeded"
    assert (world.dest / "index.html").read_text() == "<p>v1</p>\n"


def test_one_at_a_time_fails_when_the_first_of_two_fails_and_skips_the_second(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, ["i-1", "i-2"], "CodeDeployDefault.OneAtATime")
    _, bad = good_and_bad(world)
    deployment = world.deploy("v2.zip", bad)
    assert deployment.status == "Failed"
    assert [r.status for r in deployment.instances.values()] == ["Failed", "Skipped"]
    assert deployment.overview()["Skipped"] == 1


def test_one_at_a_time_succeeds_when_only_the_last_instance_fails(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1", "i-2"], "CodeDeployDefault.OneAtATime")
    good, _ = good_and_bad(world)
    only_last = {**good, "scripts/validate.sh": '#!/bin/sh\n[ "$INSTANCE_ID" != i-2 ]\n'}
    deployment = world.deploy("v1.zip", only_last)
    assert [r.status for r in deployment.instances.values()] == ["Succeeded", "Failed"]
    assert deployment.status == "Succeeded"


def test_a_hook_over_its_timeout_is_killed_and_reported_as_script_timed_out(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce")
    hooks = hook("AfterInstall", "scripts/slow.sh", timeout=1)
    files = {"site/a": "a", "scripts/slow.sh": "#!/bin/sh\necho started\nsleep 30\n"}
    deployment = world.deploy("slow.zip", {**files, "appspec.yml": appspec(world.dest, hooks)})
    event = deployment.instances["i-1"].first_failure()
    assert event is not None and event.diagnostics is not None
    assert event.diagnostics["errorCode"] == "ScriptTimedOut"
    assert event.diagnostics["message"].endswith("failed to complete in 1 seconds")
    assert deployment.status == "Failed"


def test_an_existing_file_fails_the_install_under_disallow(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce")
    world.dest.mkdir()
    (world.dest / "index.html").write_text("someone else's")
    files = {"site/index.html": "mine", "appspec.yml": appspec(world.dest, "", "DISALLOW")}
    deployment = world.deploy("v1.zip", files)
    event = deployment.instances["i-1"].first_failure()
    assert event is not None and event.name == "Install" and event.diagnostics
    assert "already exists at this location" in event.diagnostics["message"]


def test_an_alarm_in_alarm_stops_the_deployment_and_rolls_back(tmp_path: Path) -> None:
    alarms = {"enabled": True, "alarms": [{"name": "errors"}]}
    world = make_world(
        tmp_path,
        ["i-1"],
        "CodeDeployDefault.AllAtOnce",
        autoRollbackConfiguration=ROLLBACK,
        alarmConfiguration=alarms,
    )
    good, _ = good_and_bad(world)
    world.deploy("v1.zip", good)
    world.cloud.alarming.append("errors")
    stopped = world.deploy("v1b.zip", good)
    assert stopped.status == "Stopped"
    assert stopped.error is not None and stopped.error["code"] == "ALARM_ACTIVE"
    assert "errors" in stopped.error["message"]
    world.cloud.alarming.clear()
    assert world.rollback_of(stopped).status == "Succeeded"


def test_a_host_without_sandboxes_fails_the_deployment_with_the_reason(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce")
    world.cloud.reason = "user namespaces are not available"
    good, _ = good_and_bad(world)
    deployment = world.deploy("v1.zip", good)
    assert deployment.status == "Failed" and deployment.error is not None
    assert deployment.error["code"] == "AGENT_ISSUE"
    assert "user namespaces are not available" in deployment.error["message"]


def test_a_second_deployment_while_one_is_active_is_refused(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce")
    state = world.state
    group = state.groups[("app", "group")]
    state.deployments["d-ACTIVE"] = model.Deployment(
        "d-ACTIVE", "app", "group", group.group_id, "x", {}
    )
    with pytest.raises(ServiceError, match="already has an active Deployment"):
        world.deploy("v1.zip", good_and_bad(world)[0])
    assert engine.HEALTH_CONSTRAINTS.startswith("The overall deployment failed")


def test_stop_deployment_with_auto_rollback_stops_and_redeploys_the_last_good_revision(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce")
    good, _ = good_and_bad(world)
    first = world.deploy("v1.zip", good)
    slow = {"site/a": "a", "scripts/slow.sh": "#!/bin/sh\nsleep 2\n"}
    slow["appspec.yml"] = appspec(world.dest, hook("BeforeInstall", "scripts/slow.sh"))
    deployment = world.start("slow.zip", slow)
    deployments.stop_deployment(
        world.state, {"deploymentId": deployment.deployment_id, "autoRollbackEnabled": True}
    )
    assert deployment.finished.wait(60)
    assert deployment.status == "Stopped"
    assert deployment.error is not None and deployment.error["code"] == "MANUAL_STOP"
    rollback = world.rollback_of(deployment)
    assert rollback.status == "Succeeded" and rollback.revision == first.revision
    with pytest.raises(ServiceError, match="has already completed"):
        deployments.stop_deployment(world.state, {"deploymentId": deployment.deployment_id})


@pytest.mark.parametrize(("ignore", "status"), [(False, "Stopped"), (True, "Succeeded")])
def test_alarms_that_cannot_be_read_stop_the_deployment_unless_ignored(
    tmp_path: Path, ignore: bool, status: str
) -> None:
    alarms = {"enabled": True, "ignorePollAlarmFailure": ignore, "alarms": [{"name": "errors"}]}
    world = make_world(tmp_path, ["i-1"], "CodeDeployDefault.AllAtOnce", alarmConfiguration=alarms)
    world.cloud.alarm_error = "CloudWatch is down"
    deployment = world.deploy("v1.zip", good_and_bad(world)[0])
    assert deployment.status == status
    if not ignore:
        assert deployment.error is not None and "CloudWatch is down" in deployment.error["message"]


def test_an_on_premises_target_has_its_own_arn_and_an_ec2_one_ec2s(tmp_path: Path) -> None:
    world = make_world(tmp_path, ["i-1", "rack-7"], "CodeDeployDefault.AllAtOnce")
    arn = world.state.arn("instance/rack-7")
    world.state.on_premises["rack-7"] = model.OnPremisesInstance("rack-7", arn)
    good, _ = good_and_bad(world)

    deployment = world.deploy("v1.zip", good)

    assert deployment.status == "Succeeded", deployment.error
    assert deployment.instances["rack-7"].arn == arn
    assert deployment.instances["i-1"].arn == "arn:aws:ec2:us-west-2:111111111111:instance/i-1"
