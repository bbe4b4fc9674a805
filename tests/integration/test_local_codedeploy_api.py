"""Every CodeDeploy operation answers, and an on-premises instance receives a deployment.

boto3 against the local cloud, no project code in the loop. The model walk makes one minimal
valid request per operation of botocore's CodeDeploy model and checks the answer AWS gives to it:
a result, or for a name that does not exist (or a call an in-place deployment does not take) the
error the API reference names; never 501 or an internal failure.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.integration.polling import wait_until
from xrdeploy.aws_clients import local_cloud_client

ACCOUNT, REGION = "191919191919", "eu-west-1"
BUCKET = "codedeploy-walk-src"
APP, GROUP = "walk-app", "walk-group"
ON_PREMISES = "walk-server"
MISSING_INSTANCE = "i-0123456789abcdef0"
FINAL = ("Succeeded", "Failed", "Stopped")
OPERATIONS = botocore.session.get_session().get_service_model("codedeploy").operation_names


def _trust(principal: dict[str, str]) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass
class World:
    clients: Callable[[str], Any]
    service_role: str
    user_arn: str
    revision: dict[str, Any]
    deployment_id: str = ""

    @property
    def codedeploy(self) -> Any:
        return self.clients("codedeploy")

    def wait(self, deployment_id: str) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            return dict(info) if info["status"] in FINAL else None

        return wait_until(finished, f"deployment {deployment_id} to finish")


def _bundle(hooks: dict[str, str]) -> bytes:
    lines = ["version: 0.0", "os: linux", "hooks:"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for event, script in hooks.items():
            path = f"scripts/{event}.sh"
            lines += [f"  {event}:", f"    - location: {path}", "      timeout: 60"]
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o100755 << 16
            bundle.writestr(info, f"#!/bin/bash\nset -euo pipefail\n{script}\n")
        bundle.writestr("appspec.yml", "\n".join(lines) + "\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(localstack_endpoint: str) -> World:
    def clients(service: str) -> Any:
        return local_cloud_client(
            service, endpoint=localstack_endpoint, account_id=ACCOUNT, region=REGION
        )

    iam, s3 = clients("iam"), clients("s3")
    service_role = iam.create_role(
        RoleName="walk-codedeploy",
        AssumeRolePolicyDocument=_trust({"Service": "codedeploy.amazonaws.com"}),
    )["Role"]["Arn"]
    user_arn = iam.create_user(UserName="walk-agent")["User"]["Arn"]
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    iam.put_user_policy(
        UserName="walk-agent",
        PolicyName="read-revisions",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read]}),
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="walk.zip", Body=_bundle({"ApplicationStart": "true"}))
    location = {"bucket": BUCKET, "key": "walk.zip", "bundleType": "zip"}
    world = World(clients, service_role, user_arn, {"revisionType": "S3", "s3Location": location})
    codedeploy = world.codedeploy
    codedeploy.create_application(applicationName=APP, computePlatform="Server")
    codedeploy.create_deployment_group(
        applicationName=APP,
        deploymentGroupName=GROUP,
        serviceRoleArn=service_role,
        ec2TagFilters=[{"Key": "Walk", "Value": "none", "Type": "KEY_AND_VALUE"}],
    )
    # Selects no instance: it ends at once (NO_INSTANCES), a finished deployment to ask about.
    world.deployment_id = codedeploy.create_deployment(
        applicationName=APP, deploymentGroupName=GROUP, revision=world.revision
    )["deploymentId"]
    world.wait(world.deployment_id)
    return world


def _session_role(world: World, session: str) -> str:
    """An IAM session ARN of a role the account may assume that reads the revisions."""
    iam, role = world.clients("iam"), "walk-onprem-session"
    iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=_trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    )
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    iam.put_role_policy(
        RoleName=role,
        PolicyName="read-revisions",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read]}),
    )
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"


Request = Callable[[World], dict[str, Any]]
APP_ARN = f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:{APP}"
# operation → (its request, the error code AWS answers it with, or None for a result); in the
# order they run, so what one creates the next can use or delete.
WALK: dict[str, tuple[Request, str | None]] = {
    "RegisterOnPremisesInstance": (
        lambda w: {"instanceName": ON_PREMISES, "iamUserArn": w.user_arn},
        None,
    ),
    "AddTagsToOnPremisesInstances": (
        lambda w: {"instanceNames": [ON_PREMISES], "tags": [{"Key": "Walk", "Value": "yes"}]},
        None,
    ),
    "GetOnPremisesInstance": (lambda w: {"instanceName": ON_PREMISES}, None),
    "BatchGetOnPremisesInstances": (lambda w: {"instanceNames": [ON_PREMISES]}, None),
    "ListOnPremisesInstances": (lambda w: {"registrationStatus": "Registered"}, None),
    "RemoveTagsFromOnPremisesInstances": (
        lambda w: {"instanceNames": [ON_PREMISES], "tags": [{"Key": "Walk", "Value": "yes"}]},
        None,
    ),
    "DeregisterOnPremisesInstance": (lambda w: {"instanceName": ON_PREMISES}, None),
    "CreateApplication": (lambda w: {"applicationName": "walk-app-2"}, None),
    "GetApplication": (lambda w: {"applicationName": APP}, None),
    "BatchGetApplications": (lambda w: {"applicationNames": [APP]}, None),
    "ListApplications": (lambda w: {}, None),
    "UpdateApplication": (lambda w: {"applicationName": APP}, None),
    "DeleteApplication": (lambda w: {"applicationName": "walk-app-2"}, None),
    "TagResource": (lambda w: {"ResourceArn": APP_ARN, "Tags": [{"Key": "k", "Value": "v"}]}, None),
    "ListTagsForResource": (lambda w: {"ResourceArn": APP_ARN}, None),
    "UntagResource": (lambda w: {"ResourceArn": APP_ARN, "TagKeys": ["k"]}, None),
    "CreateDeploymentConfig": (
        lambda w: {
            "deploymentConfigName": "walk-config",
            "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 0},
        },
        None,
    ),
    "GetDeploymentConfig": (lambda w: {"deploymentConfigName": "walk-config"}, None),
    "ListDeploymentConfigs": (lambda w: {}, None),
    "DeleteDeploymentConfig": (lambda w: {"deploymentConfigName": "walk-config"}, None),
    "CreateDeploymentGroup": (
        lambda w: {
            "applicationName": APP,
            "deploymentGroupName": "walk-group-2",
            "serviceRoleArn": w.service_role,
        },
        None,
    ),
    "GetDeploymentGroup": (
        lambda w: {"applicationName": APP, "deploymentGroupName": "walk-group-2"},
        None,
    ),
    "BatchGetDeploymentGroups": (
        lambda w: {"applicationName": APP, "deploymentGroupNames": [GROUP]},
        None,
    ),
    "ListDeploymentGroups": (lambda w: {"applicationName": APP}, None),
    "UpdateDeploymentGroup": (
        lambda w: {"applicationName": APP, "currentDeploymentGroupName": GROUP},
        None,
    ),
    "DeleteDeploymentGroup": (
        lambda w: {"applicationName": APP, "deploymentGroupName": "walk-group-2"},
        None,
    ),
    "RegisterApplicationRevision": (
        lambda w: {"applicationName": APP, "revision": w.revision},
        None,
    ),
    "GetApplicationRevision": (lambda w: {"applicationName": APP, "revision": w.revision}, None),
    "BatchGetApplicationRevisions": (
        lambda w: {"applicationName": APP, "revisions": [w.revision]},
        None,
    ),
    "ListApplicationRevisions": (lambda w: {"applicationName": APP}, None),
    "GetDeployment": (lambda w: {"deploymentId": w.deployment_id}, None),
    "BatchGetDeployments": (lambda w: {"deploymentIds": [w.deployment_id]}, None),
    "ListDeployments": (lambda w: {"applicationName": APP, "deploymentGroupName": GROUP}, None),
    "ListDeploymentInstances": (lambda w: {"deploymentId": w.deployment_id}, None),
    "ListDeploymentTargets": (lambda w: {"deploymentId": w.deployment_id}, None),
    "BatchGetDeploymentInstances": (
        lambda w: {"deploymentId": w.deployment_id, "instanceIds": [MISSING_INSTANCE]},
        None,  # the missing instance is named in errorMessage
    ),
    "GetDeploymentInstance": (
        lambda w: {"deploymentId": w.deployment_id, "instanceId": MISSING_INSTANCE},
        "InstanceDoesNotExistException",
    ),
    "BatchGetDeploymentTargets": (
        lambda w: {"deploymentId": w.deployment_id, "targetIds": [MISSING_INSTANCE]},
        "DeploymentTargetDoesNotExistException",
    ),
    "GetDeploymentTarget": (
        lambda w: {"deploymentId": w.deployment_id, "targetId": MISSING_INSTANCE},
        "DeploymentTargetDoesNotExistException",
    ),
    "StopDeployment": (
        lambda w: {"deploymentId": w.deployment_id},
        "DeploymentAlreadyCompletedException",
    ),
    "ContinueDeployment": (
        lambda w: {"deploymentId": w.deployment_id, "deploymentWaitType": "READY_WAIT"},
        "DeploymentAlreadyCompletedException",
    ),
    "SkipWaitTimeForInstanceTermination": (
        lambda w: {"deploymentId": w.deployment_id},
        "DeploymentAlreadyCompletedException",
    ),
    "PutLifecycleEventHookExecutionStatus": (
        lambda w: {
            "deploymentId": w.deployment_id,
            "lifecycleEventHookExecutionId": "walk-hook",
            "status": "Succeeded",
        },
        "UnsupportedActionForDeploymentTypeException",
    ),
    "CreateDeployment": (
        lambda w: {"applicationName": APP, "deploymentGroupName": GROUP, "revision": w.revision},
        None,
    ),
    "ListGitHubAccountTokenNames": (lambda w: {}, None),
    "DeleteGitHubAccountToken": (
        lambda w: {"tokenName": "walk-token"},
        "GitHubAccountTokenDoesNotExistException",
    ),
    "DeleteResourcesByExternalId": (lambda w: {"externalId": "walk-external-id"}, None),
}


def test_the_walk_covers_every_operation_of_the_model() -> None:
    assert sorted(WALK) == sorted(OPERATIONS)
    assert len(OPERATIONS) == 47


@pytest.mark.parametrize("operation", list(WALK))
def test_each_operation_answers_as_aws_does(world: World, operation: str) -> None:
    request, expected = WALK[operation]
    codedeploy = world.codedeploy
    names = {api: method for method, api in codedeploy.meta.method_to_api_mapping.items()}
    method = getattr(codedeploy, names[operation])
    try:
        answer = method(**request(world))
        code, status = None, answer["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as error:
        code = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status != 501, f"{operation} has no handler"
    assert (code, status) == (expected, 200 if expected is None else 400)


def test_an_on_premises_instance_registered_with_tags_receives_a_deployment(world: World) -> None:
    # GIVEN two servers, one registered with an IAM user, one with an IAM session, both tagged,
    # and a group selecting them by tag
    codedeploy, server, other = world.codedeploy, "walk-onprem-web", "walk-onprem-db"
    codedeploy.register_on_premises_instance(instanceName=server, iamUserArn=world.user_arn)
    codedeploy.register_on_premises_instance(
        instanceName=other, iamSessionArn=_session_role(world, other)
    )
    codedeploy.add_tags_to_on_premises_instances(
        instanceNames=[server, other], tags=[{"Key": "Site", "Value": "basement"}]
    )
    codedeploy.create_deployment_group(
        applicationName=APP,
        deploymentGroupName="walk-on-premises",
        serviceRoleArn=world.service_role,
        onPremisesInstanceTagFilters=[
            {"Key": "Site", "Value": "basement", "Type": "KEY_AND_VALUE"}
        ],
    )
    hooks = {
        "AfterInstall": 'echo "installed on $(hostname) for $DEPLOYMENT_GROUP_NAME"',
        "ValidateService": 'test "$LIFECYCLE_EVENT" = ValidateService',
    }
    world.clients("s3").put_object(Bucket=BUCKET, Key="onprem.zip", Body=_bundle(hooks))
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": BUCKET, "key": "onprem.zip", "bundleType": "zip"},
    }

    # WHEN a deployment goes to the group
    deployment_id = codedeploy.create_deployment(
        applicationName=APP, deploymentGroupName="walk-on-premises", revision=revision
    )["deploymentId"]
    info = world.wait(deployment_id)

    # THEN both servers are its targets and ran the revision's hooks, each agent downloading the
    # bundle with its registered identity
    assert info["status"] == "Succeeded", info.get("errorInformation")
    targets = codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]
    assert sorted(targets) == sorted([server, other])
    keys = world.clients("iam").list_access_keys(UserName="walk-agent")["AccessKeyMetadata"]
    assert len(keys) == 1  # the key the user would have created for the agent's configuration
    target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=server)[
        "deploymentTarget"
    ]["instanceTarget"]
    registered = codedeploy.get_on_premises_instance(instanceName=server)["instanceInfo"]
    assert target["targetArn"] == registered["instanceArn"]
    events = {e["lifecycleEventName"]: e for e in target["lifecycleEvents"]}
    assert events["AfterInstall"]["status"] == "Succeeded"
    assert "for walk-on-premises" in events["AfterInstall"]["diagnostics"]["logTail"]
    assert events["ValidateService"]["status"] == "Succeeded"

    # AND once deregistered, the group has no instance left to deploy to
    codedeploy.deregister_on_premises_instance(instanceName=server)
    codedeploy.deregister_on_premises_instance(instanceName=other)
    again = world.wait(
        codedeploy.create_deployment(
            applicationName=APP, deploymentGroupName="walk-on-premises", revision=revision
        )["deploymentId"]
    )
    assert again["status"] == "Failed"
    assert again["errorInformation"]["code"] == "NO_INSTANCES"


def test_on_premises_calls_are_authorized_on_each_instances_arn(world: World) -> None:
    # GIVEN a user allowed to read one on-premises instance only
    codedeploy, iam = world.codedeploy, world.clients("iam")
    for name in ("walk-allowed", "walk-other"):
        codedeploy.register_on_premises_instance(
            instanceName=name, iamSessionArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/{name}"
        )
    # The authorization reference's resource for an on-premises instance: instance:<name>.
    allowed = f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:instance:walk-allowed"
    statement = {
        "Effect": "Allow",
        "Action": "codedeploy:GetOnPremisesInstance",
        "Resource": allowed,
    }
    iam.create_user(UserName="walk-reader")
    iam.put_user_policy(
        UserName="walk-reader",
        PolicyName="read-one",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    key = iam.create_access_key(UserName="walk-reader")["AccessKey"]
    reader = local_cloud_client(
        "codedeploy",
        endpoint=world.codedeploy.meta.endpoint_url,
        account_id=ACCOUNT,
        region=REGION,
        credentials={"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]},
    )

    # WHEN it reads both THEN only the instance its policy names answers
    info = reader.get_on_premises_instance(instanceName="walk-allowed")["instanceInfo"]
    assert info["instanceArn"].startswith(
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:instance/walk-allowed_"
    )
    with pytest.raises(ClientError) as denied:
        reader.get_on_premises_instance(instanceName="walk-other")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
