"""Lambda functions really run in the local emulator (emulator/plugins executor)."""

from __future__ import annotations

import io
import json
import textwrap
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.polling import wait_until
from xrdeploy.aws_clients import local_cloud_client

pytestmark = pytest.mark.integration

REGION = "us-east-1"
HOME_ACCOUNT = "000000000000"
OTHER_ACCOUNTS = ("111111111111", "222222222222")
LOG_WAIT_SECONDS = 15.0
# Updates, each followed at once by an event: LocalStack's own poller held back 6 of 8 such events.
UPDATES = 4
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

PROBE_SOURCE = textwrap.dedent(
    """
    import json
    import os
    import socket
    import ssl
    import time
    import urllib.parse

    import boto3


    def handler(event, context):
        action = event["action"]
        if action == "echo":
            print("echo marker", event["marker"])
            return {"event": event, "function": context.function_name,
                    "setting": os.environ["PROBE_SETTING"]}
        if action == "raise":
            raise ValueError("probe failed on purpose")
        if action == "sleep":
            time.sleep(event["seconds"])
            return "woke up"
        if action == "whoami":
            return boto3.client("sts").get_caller_identity()["Account"]
        if action == "endpoints":
            return {"env": os.environ.get("AWS_ENDPOINT_URL_CODEPIPELINE"),
                    "client": boto3.client("codepipeline").meta.endpoint_url}
        if action == "tls":
            sts = boto3.client("sts")
            account = sts.get_caller_identity()["Account"]
            url = urllib.parse.urlsplit(sts.meta.endpoint_url)
            try:  # the same server with the host's default trust store
                with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
                    ssl.create_default_context().wrap_socket(sock, server_hostname=url.hostname)
                default_trust = "accepted"
            except ssl.SSLCertVerificationError as e:
                default_trust = e.verify_message
            return {"endpoint": sts.meta.endpoint_url, "account": account,
                    "ca_bundle": os.environ.get("AWS_CA_BUNDLE"),
                    "default_trust": default_trust}
        if action == "allocate":
            return len(bytearray(event["megabytes"] * 1024 * 1024))
        raise KeyError(action)
    """
)
# requests is in LocalStack's venv but not in the Lambda runtime: the import must fail as in AWS.
MISSING_DEPENDENCY_SOURCE = "import requests\n\ndef handler(event, context):\n    return 1\n"

ClientFactory = Callable[..., Any]


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def aws(localstack_endpoint: str) -> ClientFactory:
    """boto3 clients for LocalStack; a 12-digit access key id selects the account."""

    def client(service: Any, account: str = HOME_ACCOUNT) -> Any:
        # service is Any: boto3-stubs type client() per literal service name.
        return local_cloud_client(
            service, endpoint=localstack_endpoint, account_id=account, region=REGION
        )

    return client


@pytest.fixture(scope="module")
def functions(aws: ClientFactory) -> Iterator[dict[str, tuple[str, str]]]:
    """Deploys every function of this module once; maps key -> (account, function name)."""
    suffix = str(time.time_ns())
    specs = {
        # key: (account, source, timeout seconds, memory MB)
        "probe": (HOME_ACCOUNT, PROBE_SOURCE, 5, 128),
        "updated": (HOME_ACCOUNT, PROBE_SOURCE, 5, 128),
        "short_timeout": (HOME_ACCOUNT, PROBE_SOURCE, 1, 128),
        "missing_dependency": (HOME_ACCOUNT, MISSING_DEPENDENCY_SOURCE, 5, 128),
        **{f"probe_{acct}": (acct, PROBE_SOURCE, 5, 128) for acct in OTHER_ACCOUNTS},
    }
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    roles: dict[str, str] = {}
    deployed: dict[str, tuple[str, str]] = {}
    try:
        for key, (account, source, timeout, memory) in specs.items():
            if account not in roles:
                roles[account] = aws("iam", account).create_role(
                    RoleName=f"local-lambda-test-{suffix}", AssumeRolePolicyDocument=trust
                )["Role"]["Arn"]
                # As in AWS, a function's logs reach CloudWatch only if its role may write them.
                aws("iam", account).attach_role_policy(
                    RoleName=f"local-lambda-test-{suffix}", PolicyArn=BASIC_EXECUTION_POLICY
                )
            name = f"local-lambda-{key.replace('_', '-')}-{suffix}"
            aws("lambda", account).create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=roles[account],
                Handler="probe.handler",
                Code={"ZipFile": _zip(source)},
                Timeout=timeout,
                MemorySize=memory,
                Environment={"Variables": {"PROBE_SETTING": f"setting-of-{key}"}},
            )
            deployed[key] = (account, name)
        for account, name in deployed.values():
            aws("lambda", account).get_waiter("function_active_v2").wait(FunctionName=name)
        yield deployed
    finally:
        for account, name in deployed.values():
            aws("lambda", account).delete_function(FunctionName=name)
        for account in roles:
            iam = aws("iam", account)
            role_name = f"local-lambda-test-{suffix}"
            iam.detach_role_policy(RoleName=role_name, PolicyArn=BASIC_EXECUTION_POLICY)
            iam.delete_role(RoleName=role_name)


def _invoke(
    aws: ClientFactory, function: tuple[str, str], event: dict[str, Any]
) -> tuple[str | None, Any]:
    account, name = function
    response = aws("lambda", account).invoke(FunctionName=name, Payload=json.dumps(event))
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_invoke_returns_the_handlers_result(aws: ClientFactory, functions: dict[str, Any]) -> None:
    # GIVEN a deployed Python function with an environment variable
    # WHEN it is invoked
    error, payload = _invoke(aws, functions["probe"], {"action": "echo", "marker": "m-1"})
    # THEN the payload is what the handler returned, computed in the function process
    assert error is None
    assert payload == {
        "event": {"action": "echo", "marker": "m-1"},
        "function": functions["probe"][1],
        "setting": "setting-of-probe",
    }


def test_exception_becomes_function_error(aws: ClientFactory, functions: dict[str, Any]) -> None:
    # GIVEN a function whose handler raises
    # WHEN it is invoked
    error, payload = _invoke(aws, functions["probe"], {"action": "raise"})
    # THEN Lambda reports an unhandled function error with the exception's type and message
    assert error == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "probe failed on purpose"
    assert any("probe.py" in frame for frame in payload["stackTrace"])


def test_timeout_stops_the_invocation(aws: ClientFactory, functions: dict[str, Any]) -> None:
    # GIVEN a function with a 1 s timeout
    started = time.monotonic()
    # WHEN its handler sleeps for 10 s
    error, payload = _invoke(aws, functions["short_timeout"], {"action": "sleep", "seconds": 10})
    # THEN the invocation ends at the timeout with Lambda's timeout error
    assert error == "Unhandled"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert time.monotonic() - started < 5
    # AND the environment recovers: the next invocation runs normally
    assert _invoke(aws, functions["short_timeout"], {"action": "sleep", "seconds": 0}) == (
        None,
        "woke up",
    )


def test_memory_size_is_enforced(aws: ClientFactory, functions: dict[str, Any]) -> None:
    # GIVEN a function with 128 MB of memory
    # WHEN it allocates 300 MB
    error, payload = _invoke(aws, functions["probe"], {"action": "allocate", "megabytes": 300})
    # THEN the runtime is killed as out of memory
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.OutOfMemory"


def test_dependency_missing_from_the_zip_fails_as_in_aws(
    aws: ClientFactory, functions: dict[str, Any]
) -> None:
    # GIVEN a function importing a package that its zip does not contain
    # WHEN it is invoked
    error, payload = _invoke(aws, functions["missing_dependency"], {})
    # THEN the init fails with Lambda's import error, not with LocalStack's copy of the package
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'requests'" in payload["errorMessage"]


def _log_holding(aws: ClientFactory, function: tuple[str, str], marker: str) -> list[str]:
    """The function's log messages, once one of them holds `marker`."""
    account, name = function
    logs = aws("logs", account)

    def logged() -> list[str] | None:
        # LocalStack ships logs from a background thread after the invoke; the first one's
        # creates the log group.
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        messages = [event["message"] for event in events]
        return messages if any(marker in message for message in messages) else None

    return wait_until(logged, f"{name}'s log to hold {marker}", LOG_WAIT_SECONDS)


def test_output_reaches_cloudwatch_logs(aws: ClientFactory, functions: dict[str, Any]) -> None:
    # GIVEN a function that prints a unique marker
    marker = f"marker-{time.time_ns()}"
    # WHEN it is invoked
    assert _invoke(aws, functions["probe"], {"action": "echo", "marker": marker})[0] is None
    # THEN its log group holds the output between START and REPORT lines
    messages = _log_holding(aws, functions["probe"], marker)
    assert any(f"echo marker {marker}" in message for message in messages)
    assert any(message.startswith("START RequestId:") for message in messages)
    assert any(message.startswith("REPORT RequestId:") for message in messages)


@pytest.mark.parametrize("account", OTHER_ACCOUNTS)
def test_function_calls_aws_in_its_own_account(
    aws: ClientFactory, functions: dict[str, Any], account: str
) -> None:
    # GIVEN a function deployed in another account than the default one
    # WHEN it asks STS who it is
    error, payload = _invoke(aws, functions[f"probe_{account}"], {"action": "whoami"})
    # THEN its credentials belong to its own account
    assert error is None
    assert payload == account


def test_a_function_reaches_the_local_codepipeline(
    aws: ClientFactory, functions: dict[str, Any], localstack_endpoint: str
) -> None:
    # WHEN a function creates a CodePipeline client (as the copy function does for job results)
    error, payload = _invoke(aws, functions["probe"], {"action": "endpoints"})
    # THEN it targets the local cloud, whose CodePipeline is a service like any other
    assert error is None
    port = localstack_endpoint.rsplit(":", 1)[1]
    assert payload == {"env": None, "client": f"https://localhost:{port}"}


def test_a_function_reaches_the_local_cloud_over_verified_tls(
    aws: ClientFactory, functions: dict[str, Any], localstack_endpoint: str
) -> None:
    # WHEN a function calls AWS with the SDK's defaults (as Lambda's SDKs reach AWS over TLS)
    error, payload = _invoke(aws, functions["probe"], {"action": "tls"})
    # THEN it talks HTTPS to the local cloud's port and the call succeeds
    assert error is None, payload
    port = localstack_endpoint.rsplit(":", 1)[1]
    assert payload["endpoint"] == f"https://localhost:{port}"
    assert payload["account"] == HOME_ACCOUNT
    # AND it succeeded by verifying LocalStack's self-signed certificate against AWS_CA_BUNDLE:
    # the host's default trust store refuses the same server
    assert payload["ca_bundle"].endswith(".crt")
    assert payload["default_trust"] == "self-signed certificate"


def test_an_event_sent_just_after_an_update_runs_at_once(
    aws: ClientFactory, functions: dict[str, Any]
) -> None:
    # GIVEN a function whose configuration is changed, as a test or an operator changes it
    account, name = functions["updated"]
    functions_api = aws("lambda", account)
    for attempt in range(UPDATES):
        functions_api.update_function_configuration(FunctionName=name, Timeout=6 + attempt % 2)
        functions_api.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1}
        )
        # WHEN an asynchronous invocation (as CodePipeline's) follows the update at once
        marker = f"event-{attempt}-{time.time_ns()}"
        event = json.dumps({"action": "echo", "marker": marker})
        functions_api.invoke(FunctionName=name, InvocationType="Event", Payload=event)
        # THEN it runs within seconds, not after the timeout plus a minute (LocalStack's poller
        # of the replaced configuration used to keep it)
        _log_holding(aws, functions["updated"], marker)
