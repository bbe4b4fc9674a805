"""A revision written for Amazon Linux (``service``, ``chkconfig``, ``systemctl``, hooks with
``runas: ec2-user``, a ``permissions:`` owner) deploys on two instances launched by one
``run-instances --count 2`` with an instance profile and user data that prepares the box
(cloud-config: a file, the httpd package, a command): boto3 against a LocalStack of our own, real
local instances.

EC2 answers as AWS does for every instance of the call (the profile and its association), both
instances boot at launch (listed, user data run once, its output in GetConsoleOutput, before any
deployment), and after the deployment each serves the page its hooks installed. A hook run as
ec2-user cannot write a root-owned file, and the deployment fails with the hook's error.
"""

from __future__ import annotations

import json
import textwrap
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.launcher import LocalStackServer, ensure_environment
from tests.integration.polling import wait_until
from tests.integration.test_local_codedeploy import Cloud

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
# event → [(script, runas)]
Hooks = dict[str, list[tuple[str, str | None]]]
HOOKS: Hooks = {
    "BeforeInstall": [('[ -x /usr/sbin/httpd ] && [ "$(wc -l < /var/tmp/boots)" = 1 ]', None)],
    "AfterInstall": [
        ("cp /etc/xrdeploy-it/page.txt /var/www/html/index.html", None),
        # As ec2-user: its own home, and the file `permissions:` gave it.
        (
            '[ "$(id -un)" = ec2-user ] && [ "$HOME" = /home/ec2-user ]\n'
            "cat /var/www/owned/note.txt > ~/note-copy",
            "ec2-user",
        ),
    ],
    "ApplicationStart": [("service httpd start\nchkconfig httpd on", None)],
    "ValidateService": [
        (
            "service httpd status\n"
            "chkconfig httpd\n"
            '[ "$(systemctl is-enabled httpd)" = enabled ]\n'
            f"curl -sf http://127.0.0.1/ | grep -q '{PAGE}'\n"
            '[ "$(stat -c %U:%G:%a /var/www/owned/note.txt)" = ec2-user:ec2-user:640 ]\n'
            '[ "$(stat -c %U /home/ec2-user/note-copy)" = ec2-user ]',
            None,
        )
    ],
}
FILES_AND_PERMISSIONS = """\
files:
  - source: note.txt
    destination: /var/www/owned
permissions:
  - object: /var/www/owned
    pattern: "*.txt"
    owner: ec2-user
    group: ec2-user
    mode: 640
    type: [file]
"""


def revision(tmp_path: Path, name: str, hooks: Hooks, extra: str = "") -> Path:
    """A revision of its own: one script per hook entry, each with its ``runas``."""
    lines = ["version: 0.0", "os: linux", "hooks:"]
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for event, scripts in hooks.items():
            lines.append(f"  {event}:")
            for number, (script, runas) in enumerate(scripts):
                path = f"scripts/{event}-{number}.sh"
                lines += [f"    - location: {path}", "      timeout: 60"]
                lines += [f"      runas: {runas}"] if runas else []
                info = zipfile.ZipInfo(path)
                info.external_attr = 0o100755 << 16
                bundle.writestr(info, f"#!/bin/bash\nset -euo pipefail\n{script}\n")
        bundle.writestr("note.txt", "for ec2-user\n")
        bundle.writestr("appspec.yml", "\n".join(lines) + "\n" + textwrap.dedent(extra))
    return archive


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with LocalStackServer(ensure_environment()) as server:
        yield Cloud(server.endpoint)


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
    # GIVEN two instances of one RunInstances call with user data, booted at launch: listed, and
    # their user data run, before any deployment reaches them
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
    for instance_id in ids:
        wait_until(
            lambda i=instance_id: (
                "user data ran" in cloud.ec2.get_console_output(InstanceId=i).get("Output", "")
            ),
            f"{instance_id} to run its user data at launch",
        )
    before = _listing(cloud)
    assert {before[i]["state"] for i in ids} == {"running"}
    assert not any(before[i]["listening"] for i in ids)
    cloud.group("Mike", "CodeDeployDefault.AllAtOnce")
    # WHEN a revision whose hooks rely on the user data, start httpd with `service` and enable it
    # with `chkconfig`, run one hook as ec2-user and give it a file with `permissions:` deploys
    archive = revision(tmp_path, "al2023", HOOKS, FILES_AND_PERMISSIONS)
    info = cloud.deployed(cloud.deploy("Mike", archive))
    # THEN it succeeds on both (the hooks found what the user data prepared, run once; ec2-user
    # read the file it was given and owns what it wrote), and each serves the page its hooks
    # wrote and shows the user data's output on its console
    assert info["deploymentOverview"]["Succeeded"] == 2
    after = _listing(cloud)
    for instance_id in ids:
        assert after[instance_id]["state"] == "running"
        assert after[instance_id]["listening"]
        assert PAGE in cloud.page(instance_id)
        # EC2 answers base64; botocore decodes GetConsoleOutput's Output, as the AWS CLI does.
        console = cloud.ec2.get_console_output(InstanceId=instance_id)
        assert "user data ran" in console["Output"]


def test_a_hook_run_as_ec2_user_cannot_write_a_root_owned_file_while_root_can(
    cloud: Cloud, tmp_path: Path
) -> None:
    # GIVEN an instance where a root hook wrote a file (root-owned, mode 644)
    [instance_id] = cloud.instances("November")
    cloud.group("November", "CodeDeployDefault.AllAtOnce")
    as_root: Hooks = {"AfterInstall": [("echo root >> /etc/xrdeploy-owned.conf", None)]}
    root = cloud.deployed(cloud.deploy("November", revision(tmp_path, "root", as_root)))
    assert root["status"] == "Succeeded"
    # WHEN a revision's hook run as ec2-user appends to it
    as_user: Hooks = {"AfterInstall": [("echo user >> /etc/xrdeploy-owned.conf", "ec2-user")]}
    failed = cloud.wait(cloud.deploy("November", revision(tmp_path, "user", as_user)))
    # THEN the deployment fails with the hook's own error
    assert failed["status"] == "Failed"
    event = cloud.events(failed["deploymentId"], instance_id)["AfterInstall"]
    assert event["status"] == "Failed"
    assert event["diagnostics"]["errorCode"] == "ScriptFailed"
    assert "run as user ec2-user" in event["diagnostics"]["message"]
    assert "/etc/xrdeploy-owned.conf: Permission denied" in event["diagnostics"]["logTail"]
