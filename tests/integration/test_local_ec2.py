"""EC2 in the local cloud: AWS's answer to an instance profile that does not exist (the one the AWS
provider retries on while a new profile propagates). The generated fleet's instances are checked
on the deployed chain (tests/integration/chain/)."""

from __future__ import annotations

import pytest

from xrdeploy.aws_clients import local_cloud_client


def test_run_instances_refuses_an_unknown_instance_profile_as_aws_does(
    localstack_endpoint: str,
) -> None:
    # GIVEN an account with no instance profile
    ec2 = local_cloud_client(
        "ec2", endpoint=localstack_endpoint, account_id="333333333333", region="us-west-2"
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
