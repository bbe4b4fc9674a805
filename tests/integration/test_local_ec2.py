"""EC2 in the local cloud as the generated fleet needs it: instances with the AL2023 AMI, their
instance profile from IAM, detailed monitoring and IMDSv2, and AWS's answer to a profile that does
not exist (the one the AWS provider retries on while a new profile propagates)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from xrdeploy.config import Stage
from xrdeploy.local_chain import LocalDeployment
from xrdeploy.target import EMULATOR_SECRET_KEY


def client(deployment: LocalDeployment, service: str, stage: Stage) -> Any:
    return deployment.client(service, stage.account_id, stage.region)


def test_run_instances_refuses_an_unknown_instance_profile_as_aws_does(
    localstack_endpoint: str,
) -> None:
    # GIVEN an account with no instance profile
    ec2 = boto3.client(
        "ec2",
        endpoint_url=localstack_endpoint,
        region_name="us-west-2",
        aws_access_key_id="333333333333",
        aws_secret_access_key=EMULATOR_SECRET_KEY,
    )
    for profile, parameter in (
        ({"Name": "missing"}, "name"),
        ({"Arn": "arn:aws:iam::333333333333:instance-profile/missing"}, "arn"),
    ):
        # WHEN an instance is asked for with one
        with pytest.raises(ec2.exceptions.ClientError) as refused:
            ec2.run_instances(
                ImageId="ami-12c6146b", MinCount=1, MaxCount=1, IamInstanceProfile=profile
            )
        # THEN EC2 answers AWS's error, the one the AWS provider retries on while a new
        # profile propagates through IAM
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidParameterValue"
        assert f"for parameter iamInstanceProfile.{parameter} is invalid" in error["Message"]
        assert "Invalid IAM Instance Profile" in error["Message"]


def test_fleet_runs_the_al2023_ami_with_its_profile_and_detailed_monitoring(
    default_chain: LocalDeployment,
) -> None:
    for stage in default_chain.chain.stages:
        ec2, ssm = client(default_chain, "ec2", stage), client(default_chain, "ssm", stage)
        # GIVEN the AMI the public SSM parameter names in the stage's region
        arch = "x86_64"  # the default chain's t3 types
        parameter = f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
        ami = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        # THEN the stage's instances run it, with the fleet's instance profile and monitoring on
        reservations = ec2.describe_instances(
            Filters=[
                {"Name": "tag:DeploymentStage", "Values": [stage.fleet.tag_value]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ]
        )["Reservations"]
        instances = [i for r in reservations for i in r["Instances"]]
        assert len(instances) == stage.fleet.instance_count, stage.name
        for instance in instances:
            assert instance["ImageId"] == ami
            assert instance["Monitoring"]["State"] == "enabled"
            profile = instance["IamInstanceProfile"]["Arn"].rsplit("/", 1)[1]
            assert profile.startswith(f"{default_chain.chain.app.name}-{stage.name}")
            assert instance["MetadataOptions"]["HttpTokens"] == "required"
