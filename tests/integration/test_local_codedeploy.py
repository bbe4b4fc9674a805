"""Local CodeDeploy end to end: boto3 against the session's own local cloud, real local instances.

Each test creates what a stage has (service role, instance role and profile, tagged EC2
instances, a source bucket), deploys zips built from sample_app/ (copied; a broken build breaks
only the copy's page template, so the sample app's own hooks fail it) or from small appspecs of
its own, and reads the outcome through the API: deployment, targets, lifecycle events, and the
page each instance serves (its URL from ``GET /_xrdeploy/instances``).
"""

from __future__ import annotations

import functools
import json
import shutil
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from tests.integration.conftest import SessionLocalCloud
from tests.integration.polling import WAITER_CONFIG, wait_until
from xrdeploy.aws_clients import local_cloud_client
from xrdeploy.packaging import build_zip

REPO = Path(__file__).resolve().parents[2]
# An account of its own: the default chain's alpha (111111111111, us-west-2) selects instances by
# the same DeploymentStage tag, and may be deployed in the same local cloud.
ACCOUNT, REGION = "565656565656", "us-west-2"
BUCKET = "codedeploy-it-src"
FINAL = ("Succeeded", "Failed", "Stopped")
ROLLBACK = {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _trust(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class Cloud:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

        def client(service: str) -> Any:
            return local_cloud_client(service, endpoint=endpoint, account_id=ACCOUNT, region=REGION)

        self.iam, self.s3 = client("iam"), client("s3")
        self.ec2, self.codedeploy = client("ec2"), client("codedeploy")
        self.cloudwatch = client("cloudwatch")
        self.service_role = self.iam.create_role(
            RoleName="it-codedeploy", AssumeRolePolicyDocument=_trust("codedeploy.amazonaws.com")
        )["Role"]["Arn"]
        self.iam.create_role(
            RoleName="it-fleet", AssumeRolePolicyDocument=_trust("ec2.amazonaws.com")
        )
        # The agent downloads each revision with the instance's role; IAM is enforced, as on AWS.
        read_revisions = {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
        self.iam.put_role_policy(
            RoleName="it-fleet",
            PolicyName="read-revisions",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read_revisions]}),
        )
        self.iam.create_instance_profile(InstanceProfileName="it-fleet")
        self.iam.add_role_to_instance_profile(InstanceProfileName="it-fleet", RoleName="it-fleet")
        self.s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        images = self.ec2.describe_images()["Images"]
        # A Linux image: the local cloud refuses to run a Windows one (see the last test).
        self.image = next(i["ImageId"] for i in images if i.get("Platform") != "windows")
        self.windows_image = next(i["ImageId"] for i in images if i.get("Platform") == "windows")
        self.codedeploy.create_application(applicationName="it-app", computePlatform="Server")

    def instances(self, stage: str, count: int = 1, *, image: str | None = None) -> list[str]:
        tags = [
            {"Key": "DeploymentStage", "Value": stage},
            {"Key": "Stage", "Value": stage.lower()},
        ]
        reservation = self.ec2.run_instances(
            ImageId=image or self.image,
            MinCount=count,
            MaxCount=count,
            InstanceType="t3.micro",
            IamInstanceProfile={"Name": "it-fleet"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        return sorted(instance["InstanceId"] for instance in reservation["Instances"])

    def group(self, stage: str, config: str, **settings: Any) -> str:
        self.codedeploy.create_deployment_group(
            applicationName="it-app",
            deploymentGroupName=stage,
            serviceRoleArn=self.service_role,
            deploymentConfigName=config,
            ec2TagFilters=[{"Key": "DeploymentStage", "Value": stage, "Type": "KEY_AND_VALUE"}],
            autoRollbackConfiguration=ROLLBACK,
            **settings,
        )
        return stage

    def upload(self, archive: Path) -> dict[str, Any]:
        key = f"{uuid.uuid4().hex}.zip"
        answer = self.s3.put_object(Bucket=BUCKET, Key=key, Body=archive.read_bytes())
        location = {
            "bucket": BUCKET,
            "key": key,
            "bundleType": "zip",
            "version": answer["VersionId"],
        }
        return {"revisionType": "S3", "s3Location": location}

    def deploy(self, group: str, archive: Path) -> str:
        return self.codedeploy.create_deployment(
            applicationName="it-app", deploymentGroupName=group, revision=self.upload(archive)
        )["deploymentId"]

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        return self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]

    def wait(self, deployment_id: str, statuses: tuple[str, ...] = FINAL) -> dict[str, Any]:
        """The deployment once in one of `statuses` (AWS's waiter knows only success)."""

        def reached() -> dict[str, Any] | None:
            info = self.deployment(deployment_id)
            return info if info["status"] in statuses else None

        return wait_until(reached, f"{deployment_id} to reach {statuses}")

    def deployed(self, deployment_id: str) -> dict[str, Any]:
        """The deployment once succeeded, through CodeDeploy's own waiter."""
        try:
            self.codedeploy.get_waiter("deployment_successful").wait(
                deploymentId=deployment_id, WaiterConfig=WAITER_CONFIG
            )
        except WaiterError as error:
            info = error.last_response.get("deploymentInfo", {})
            raise AssertionError(
                f"{deployment_id} is {info.get('status')}: {info.get('errorInformation')}"
            ) from None
        return self.deployment(deployment_id)

    def events(self, deployment_id: str, instance_id: str) -> dict[str, dict[str, Any]]:
        target = self.codedeploy.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=[instance_id]
        )["deploymentTargets"][0]["instanceTarget"]
        return {event["lifecycleEventName"]: event for event in target["lifecycleEvents"]}

    def page(self, instance_id: str) -> str:
        with _NO_PROXY.open(f"{self.endpoint}/_xrdeploy/instances", timeout=10) as answer:
            listing = json.load(answer)
        url = next(i["page_url"] for i in listing["instances"] if i["instance_id"] == instance_id)
        with _NO_PROXY.open(url, timeout=10) as answer:
            return answer.read().decode()


@functools.cache
def cloud_of(endpoint: str) -> Cloud:
    """One Cloud per local cloud: its roles, bucket and application have fixed names, and the
    modules using it (this one, test_local_amazon_linux.py) share the session's own local cloud."""
    return Cloud(endpoint)


@pytest.fixture(scope="module")
def cloud(own_cloud: SessionLocalCloud) -> Cloud:
    return cloud_of(own_cloud.endpoint)


def sample_build(tmp_path: Path, version: str, *, broken_page: bool = False) -> Path:
    """sample_app/ as a build of `version`; a broken page no longer shows the version."""
    source = tmp_path / f"sample-{version}"
    shutil.copytree(REPO / "sample_app", source)
    (source / "VERSION").write_text(f"{version}\n")
    if broken_page:
        template = source / "site" / "index.html.template"
        template.write_text(template.read_text().replace('id="version"', 'id="release"'))
    return build_zip(source, tmp_path / f"sample-{version}.zip")


def custom_build(tmp_path: Path, name: str, hooks: dict[str, tuple[str, int]]) -> Path:
    """A revision of its own: one script per hook, with its timeout."""
    lines = ["version: 0.0", "os: linux", "hooks:"]
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for event, (script, timeout) in hooks.items():
            path = f"scripts/{event}.sh"
            lines += [f"  {event}:", f"    - location: {path}", f"      timeout: {timeout}"]
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o100755 << 16
            bundle.writestr(info, f"#!/bin/bash\nset -euo pipefail\n{script}\n")
        bundle.writestr("appspec.yml", "\n".join(lines) + "\n")
    return archive


def test_a_good_build_then_a_failing_one_rolls_back_to_the_good_page(
    cloud: Cloud, tmp_path: Path
) -> None:
    [instance] = cloud.instances("Alpha")
    cloud.group("Alpha", "CodeDeployDefault.AllAtOnce")

    good = cloud.deployed(cloud.deploy("Alpha", sample_build(tmp_path, "1.4.0")))
    assert good["status"] == "Succeeded", good.get("errorInformation")
    page = cloud.page(instance)
    assert '<strong id="version">1.4.0</strong>' in page
    assert '<strong id="stage">alpha</strong>' in page
    assert f'<strong id="region">{REGION}</strong>' in page
    # The agent's files and the app's files stay inside the instance.
    assert not Path("/opt/codedeploy-agent").exists()
    assert not Path("/var/www/xrdeploy-sample").exists()

    failed = cloud.wait(cloud.deploy("Alpha", sample_build(tmp_path, "1.5.0", broken_page=True)))
    assert failed["status"] == "Failed"
    assert failed["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"
    validate = cloud.events(failed["deploymentId"], instance)["ValidateService"]
    assert validate["status"] == "Failed"
    assert validate["diagnostics"]["errorCode"] == "ScriptFailed"
    assert "the page does not show version 1.5.0" in validate["diagnostics"]["logTail"]
    assert "the page does not show version 1.5.0" in failed["errorInformation"]["message"]

    rollback_id = failed["rollbackInfo"]["rollbackDeploymentId"]
    rollback = cloud.wait(rollback_id)
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == failed["deploymentId"]
    assert rollback["revision"] == good["revision"]
    assert '<strong id="version">1.4.0</strong>' in cloud.page(instance)


def test_an_alarm_during_a_deployment_stops_it_and_rolls_back(cloud: Cloud, tmp_path: Path) -> None:
    cloud.instances("Beta")
    cloud.cloudwatch.put_metric_alarm(
        AlarmName="beta-errors",
        MetricName="Errors",
        Namespace="it",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    alarms = {"enabled": True, "alarms": [{"name": "beta-errors"}]}
    cloud.group("Beta", "CodeDeployDefault.AllAtOnce", alarmConfiguration=alarms)
    first = cloud.wait(
        cloud.deploy("Beta", custom_build(tmp_path, "quick", {"ValidateService": ("true", 30)}))
    )
    assert first["status"] == "Succeeded", first.get("errorInformation")

    slow = custom_build(tmp_path, "slow", {"AfterInstall": ("sleep 20", 60)})
    deployment_id = cloud.deploy("Beta", slow)
    cloud.wait(deployment_id, ("InProgress", *FINAL))
    cloud.cloudwatch.set_alarm_state(
        AlarmName="beta-errors", StateValue="ALARM", StateReason="test"
    )
    stopped = cloud.wait(deployment_id)
    cloud.cloudwatch.set_alarm_state(AlarmName="beta-errors", StateValue="OK", StateReason="test")
    assert stopped["status"] == "Stopped"
    assert stopped["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert "beta-errors" in stopped["errorInformation"]["message"]
    rollback = cloud.wait(stopped["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["status"] == "Succeeded" and rollback["revision"] == first["revision"]


def test_one_at_a_time_with_two_instances_where_the_second_fails(
    cloud: Cloud, tmp_path: Path
) -> None:
    first, second = cloud.instances("Gamma", count=2)
    cloud.ec2.create_tags(Resources=[second], Tags=[{"Key": "FailValidation", "Value": "yes"}])
    cloud.group("Gamma", "CodeDeployDefault.OneAtATime")
    validate = (
        "token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token "
        '-H "X-aws-ec2-metadata-token-ttl-seconds: 60")\n'
        'fail=$(curl -sf -H "X-aws-ec2-metadata-token: $token" '
        "http://169.254.169.254/latest/meta-data/tags/instance/FailValidation || echo no)\n"
        'echo "fail=$fail"; [ "$fail" != yes ]'
    )
    build = custom_build(tmp_path, "picky", {"ValidateService": (validate, 30)})
    info = cloud.wait(cloud.deploy("Gamma", build))
    assert cloud.events(info["deploymentId"], first)["ValidateService"]["status"] == "Succeeded"
    assert cloud.events(info["deploymentId"], second)["ValidateService"]["status"] == "Failed"
    # OneAtATime keeps all instances but one healthy: a failure on the last instance is allowed.
    assert info["status"] == "Succeeded"
    assert (
        info["deploymentOverview"]["Succeeded"] == 1 and info["deploymentOverview"]["Failed"] == 1
    )


def test_a_hook_over_its_timeout_is_killed_as_script_timed_out(
    cloud: Cloud, tmp_path: Path
) -> None:
    [instance] = cloud.instances("Delta")
    cloud.group("Delta", "CodeDeployDefault.AllAtOnce")
    marker = Path("/tmp") / f"xrdeploy-hook-{uuid.uuid4().hex}"
    hook = f"echo started; echo written > {marker}; sleep 60"
    info = cloud.wait(
        cloud.deploy("Delta", custom_build(tmp_path, "stuck", {"AfterInstall": (hook, 2)}))
    )
    assert info["status"] == "Failed"
    after_install = cloud.events(info["deploymentId"], instance)["AfterInstall"]
    assert after_install["diagnostics"]["errorCode"] == "ScriptTimedOut"
    assert "failed to complete in 2 seconds" in after_install["diagnostics"]["message"]
    assert "[stdout]started" in after_install["diagnostics"]["logTail"]
    assert cloud.events(info["deploymentId"], instance)["ApplicationStart"]["status"] == "Skipped"
    assert not marker.exists()  # the hook wrote inside its instance only


def test_terminating_an_instance_stops_its_local_instance(cloud: Cloud, tmp_path: Path) -> None:
    # GIVEN an instance serving the sample app after a deployment
    [instance] = cloud.instances("Omega")
    cloud.group("Omega", "CodeDeployDefault.AllAtOnce")
    deployed = cloud.deployed(cloud.deploy("Omega", sample_build(tmp_path, "2.0.0")))
    assert deployed["status"] == "Succeeded", deployed.get("errorInformation")
    assert '<strong id="version">2.0.0</strong>' in cloud.page(instance)
    # WHEN EC2 terminates it
    cloud.ec2.terminate_instances(InstanceIds=[instance])
    # THEN its sandbox is gone: the local cloud no longer lists it (nothing serves its page)
    with _NO_PROXY.open(f"{cloud.endpoint}/_xrdeploy/instances", timeout=10) as answer:
        listed = {i["instance_id"] for i in json.load(answer)["instances"]}
    assert instance not in listed


def test_a_deployment_to_a_windows_instance_fails_saying_the_local_cloud_cannot_run_it(
    cloud: Cloud, tmp_path: Path
) -> None:
    # GIVEN an instance of a Windows image in a deployment group of its own
    [instance] = cloud.instances("Windows", image=cloud.windows_image)
    cloud.group("Windows", "CodeDeployDefault.AllAtOnce")
    # WHEN a revision is deployed to it
    failed = cloud.wait(cloud.deploy("Windows", sample_build(tmp_path, "1.0.0")))
    # THEN the deployment fails, and the instance's first event says why in one line
    assert failed["status"] == "Failed"
    events = cloud.events(failed["deploymentId"], instance).values()
    [first] = [event for event in events if event["status"] == "Failed"]
    assert first["diagnostics"]["message"] == (
        f"The local instance did not start: {instance} runs Windows (image "
        f"{cloud.windows_image}); the local cloud runs Linux instances only"
    )
