"""A revision written for Amazon Linux (``service``, ``chkconfig``, ``systemctl``) deploys on two
instances launched by one ``run-instances --count 2`` with an instance profile and user data that
prepares the box (cloud-config: a file, the httpd package, a command): boto3 against the session's
own local cloud, real local instances.

EC2 answers as AWS does for every instance of the call (the profile and its association), the
instance listing shows both before any deployment reaches them, the user data ran once (its
output in GetConsoleOutput), and after the deployment each serves the page its hooks installed.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import SessionLocalCloud
from tests.integration.test_local_codedeploy import Cloud, cloud_of, custom_build

pytestmark = pytest.mark.integration

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PAGE = "written for amazon linux"
USER_DATA = f"""#cloud-config
write_files:
  - path: /etc/xrdeploy-it/page.txt
    content: {PAGE}
packages:
  - httpd
runcmd:
  - echo "user data ran" | tee -a /var/tmp/boots
"""
HOOKS = {
    "BeforeInstall": ('[ -x /usr/sbin/httpd ] && [ "$(wc -l < /var/tmp/boots)" = 1 ]', 60),
    "AfterInstall": ("cp /etc/xrdeploy-it/page.txt /var/www/html/index.html", 60),
    "ApplicationStart": ("service httpd start\nchkconfig httpd on", 60),
    "ValidateService": (
        "service httpd status\n"
        "chkconfig httpd\n"
        '[ "$(systemctl is-enabled httpd)" = enabled ]\n'
        f"curl -sf http://127.0.0.1/ | grep -q '{PAGE}'",
        60,
    ),
}


@pytest.fixture(scope="module")
def cloud(own_cloud: SessionLocalCloud) -> Cloud:
    return cloud_of(own_cloud.endpoint)


def _listing(cloud: Cloud) -> dict[str, dict[str, Any]]:
    with _NO_PROXY.open(f"{cloud.endpoint}/_xrdeploy/instances", timeout=30) as answer:
        return {i["instance_id"]: i for i in json.load(answer)["instances"]}


def test_run_instances_count_two_gives_each_instance_the_profile(cloud: Cloud) -> None:
    # GIVEN two instances launched by one RunInstances call with a profile
    ids = cloud.instances("Lima", count=2)
    profile = cloud.iam.get_instance_profile(InstanceProfileName="it-fleet")["InstanceProfile"]
    # THEN DescribeInstances shows the profile on each
    reservations = cloud.ec2.describe_instances(InstanceIds=ids)["Reservations"]
    shown = {i["InstanceId"]: i["IamInstanceProfile"] for r in reservations for i in r["Instances"]}
    assert shown == {
        instance_id: {"Arn": profile["Arn"], "Id": profile["InstanceProfileId"]}
        for instance_id in ids
    }
    # AND each has its own association
    associations = cloud.ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": ids}]
    )["IamInstanceProfileAssociations"]
    assert sorted(a["InstanceId"] for a in associations) == ids
    assert {a["State"] for a in associations} == {"associated"}
    assert {a["IamInstanceProfile"]["Arn"] for a in associations} == {profile["Arn"]}


def test_a_revision_using_service_chkconfig_and_user_data_deploys_on_both(
    cloud: Cloud, tmp_path: Path
) -> None:
    # GIVEN two instances of one RunInstances call with user data, listed before any deployment
    # reaches them
    reservation = cloud.ec2.run_instances(
        ImageId=cloud.image,
        MinCount=2,
        MaxCount=2,
        InstanceType="t3.micro",
        IamInstanceProfile={"Name": "it-fleet"},
        UserData=USER_DATA,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "DeploymentStage", "Value": "Mike"}]}
        ],
    )
    ids = sorted(instance["InstanceId"] for instance in reservation["Instances"])
    before = _listing(cloud)
    assert {before[i]["state"] for i in ids} == {"not-booted"}
    assert not any(before[i]["listening"] for i in ids)
    cloud.group("Mike", "CodeDeployDefault.AllAtOnce")
    # WHEN a revision whose hooks rely on the user data, start httpd with `service` and enable it
    # with `chkconfig` deploys
    info = cloud.deployed(cloud.deploy("Mike", custom_build(tmp_path, "al2023", HOOKS)))
    # THEN it succeeds on both (the hooks found what the user data prepared, run once), and each
    # serves the page its hooks wrote and shows the user data's output on its console
    assert info["deploymentOverview"]["Succeeded"] == 2
    after = _listing(cloud)
    for instance_id in ids:
        assert after[instance_id]["state"] == "running"
        assert after[instance_id]["listening"]
        assert PAGE in cloud.page(instance_id)
        # EC2 answers base64; botocore decodes GetConsoleOutput's Output, as the AWS CLI does.
        console = cloud.ec2.get_console_output(InstanceId=instance_id)
        assert "user data ran" in console["Output"]
