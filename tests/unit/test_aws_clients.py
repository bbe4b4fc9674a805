"""The one factory of local-cloud clients (xrdeploy/aws_clients.py), on localstack-client's session:
the endpoint as given, the account as access key, the region, and the local cloud's CA."""

from __future__ import annotations

from xrdeploy.aws_clients import AwsClients, local_cloud_client
from xrdeploy.config.target import EMULATOR_SECRET_KEY, DeployTarget


def test_a_client_is_the_account_root_at_the_endpoint() -> None:
    client = local_cloud_client(
        "codepipeline",
        endpoint="http://127.0.0.1:4599",
        account_id="111111111111",
        region="eu-west-1",
    )
    credentials = client._request_signer._credentials
    assert client.meta.endpoint_url == "http://127.0.0.1:4599"
    assert client.meta.region_name == "eu-west-1"
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "111111111111",
        EMULATOR_SECRET_KEY,
        None,
    )


def test_a_role_session_and_the_local_cloud_ca() -> None:
    client = local_cloud_client(
        "s3",
        endpoint="https://localhost:4599",
        account_id="111111111111",
        region="us-east-1",
        credentials={"AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t"},
        ca_bundle="/tmp/local-cloud-ca.crt",
    )
    credentials = client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "ASIA1",
        "s",
        "t",
    )
    assert client.meta.endpoint_url == "https://localhost:4599"
    assert client._endpoint.http_session._verify == "/tmp/local-cloud-ca.crt"


def test_the_app_builds_its_local_clients_through_it() -> None:
    clients = AwsClients(DeployTarget(emulator_url="http://127.0.0.1:4599"))
    client = clients.client("s3", "222222222222", "ap-southeast-2")
    assert client.meta.endpoint_url == "http://127.0.0.1:4599"
    assert client._request_signer._credentials.access_key == "222222222222"
    assert client._endpoint.http_session._verify is True


def test_each_services_client_is_made_once_per_account_and_region() -> None:
    clients = AwsClients(DeployTarget(emulator_url="http://127.0.0.1:4599"))
    first = clients.client("codepipeline", "111111111111", "us-east-1")
    assert clients.client("codepipeline", "111111111111", "us-east-1") is first
    others = [
        clients.client("codepipeline", "111111111111", "us-west-2"),
        clients.client("codepipeline", "222222222222", "us-east-1"),
        clients.client("codedeploy", "111111111111", "us-east-1"),
    ]
    assert all(other is not first for other in others)
    assert others[0].meta.region_name == "us-west-2"
