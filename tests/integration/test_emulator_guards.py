"""The emulator behaves like AWS where the chain's tests rely on it, and injects faults on request.

Covers the ``xrdeploy-guards`` extension of ``emulator/plugins`` (fault injection, STS trust
policies, KMS key state in S3), the identity Lambda functions run as, the loopback-only gateway,
and switching the guards off and on while the local cloud runs. The module runs in the session's
own local cloud (``own_cloud``) under names of its own; faults are cleared after each test and the
switches put back after the module.
"""

from __future__ import annotations

import functools
import io
import json
import socket
import textwrap
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.launcher import (
    EmulatorError,
    add_fault,
    change_settings,
    clear_faults,
    get_settings,
    list_faults,
    reset_settings,
)
from tests.integration.conftest import SessionLocalCloud
from xrdeploy.aws_clients import local_cloud_client

pytestmark = pytest.mark.integration

REGION = "us-east-1"
# No SDK retries: a test must see each injected error, not boto3 hiding it by retrying.
NO_RETRIES = Config(retries={"total_max_attempts": 1})

ClientFactory = Callable[..., Any]


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: Any, effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}


def _assume_anything() -> dict[str, Any]:
    """An identity grant of sts:AssumeRole, so that only the target's trust policy decides."""
    return {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}


@pytest.fixture(scope="module")
def endpoint(own_cloud: SessionLocalCloud) -> Iterator[str]:
    yield own_cloud.endpoint
    reset_settings(own_cloud.endpoint)


@pytest.fixture(scope="module")
def aws(endpoint: str) -> ClientFactory:
    """boto3 clients; the access key id is the account (root) or a session's credentials."""

    def client(service: Any, account: str = "111111111111", **credentials: str) -> Any:
        return local_cloud_client(
            service,
            endpoint=endpoint,
            account_id=account,
            region=REGION,
            credentials=credentials,
            config=NO_RETRIES,
        )

    return client


@pytest.fixture(autouse=True)
def no_faults_left(endpoint: str) -> Iterator[None]:
    yield
    clear_faults(endpoint)


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# -- fault injection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "call"),
    [
        ("sts", "GetCallerIdentity", lambda c: c.get_caller_identity()),  # query/XML
        ("s3", "ListBuckets", lambda c: c.list_buckets()),  # REST/XML
        ("kms", "ListKeys", lambda c: c.list_keys()),  # JSON
        ("lambda", "ListFunctions", lambda c: c.list_functions()),  # REST/JSON
    ],
)
def test_fault_error_reaches_the_sdk_in_the_service_wire_format(
    endpoint: str, aws: ClientFactory, service: str, operation: str, call: Callable[[Any], Any]
) -> None:
    # GIVEN an error rule for one operation
    add_fault(
        endpoint,
        service=service,
        operation=operation,
        error={"code": "InjectedFault", "message": f"no {operation} today", "status": 409},
    )
    # WHEN the SDK calls it THEN it parses exactly that error
    assert _error(lambda: call(aws(service))) == ("InjectedFault", f"no {operation} today", 409)


def test_fault_times_is_honoured_and_hits_are_counted(endpoint: str, aws: ClientFactory) -> None:
    # GIVEN a rule limited to two requests
    fault_id = add_fault(
        endpoint,
        service="sts",
        operation="GetCallerIdentity",
        error={"code": "AccessDenied", "message": "injected", "status": 403},
        times=2,
    )
    sts = aws("sts")
    # WHEN the operation is called three times THEN the first two fail and the third passes
    assert _error(sts.get_caller_identity)[0] == "AccessDenied"
    assert _error(sts.get_caller_identity)[0] == "AccessDenied"
    assert sts.get_caller_identity()["Account"] == "111111111111"
    # AND the rule is listed as used up
    (listed,) = list_faults(endpoint)
    assert (listed["id"], listed["hits"], listed["remaining"]) == (fault_id, 2, 0)


def test_fault_matches_account_operation_and_resource_only(
    endpoint: str, aws: ClientFactory
) -> None:
    # GIVEN a bucket and a rule for PutObject under one key prefix, from one account
    s3 = aws("s3")
    s3.create_bucket(Bucket="guards-faults")
    add_fault(
        endpoint,
        service="s3",
        operation="PutObject",
        account_id="111111111111",
        resource="guards-faults/blocked/",
        error={"code": "SlowDown", "message": "Please reduce your request rate.", "status": 503},
    )
    # WHEN objects are written under and outside that prefix, and read under it
    # THEN only the write under the prefix fails
    assert (
        _error(lambda: s3.put_object(Bucket="guards-faults", Key="blocked/a", Body=b"a"))[0]
        == "SlowDown"
    )
    s3.put_object(Bucket="guards-faults", Key="open/a", Body=b"a")
    assert _error(lambda: s3.get_object(Bucket="guards-faults", Key="blocked/a"))[0] == "NoSuchKey"
    assert list_faults(endpoint)[0]["hits"] == 1


def test_clear_faults_removes_every_rule(endpoint: str, aws: ClientFactory) -> None:
    # GIVEN two rules
    for operation in ("GetCallerIdentity", "AssumeRole"):
        add_fault(endpoint, service="sts", operation=operation, error={"code": "Injected"})
    # WHEN they are cleared THEN none is listed and requests pass again
    assert clear_faults(endpoint) == 2
    assert list_faults(endpoint) == []
    assert aws("sts").get_caller_identity()["Account"] == "111111111111"


def test_fault_delay_slows_the_request_down_then_lets_it_pass(
    endpoint: str, aws: ClientFactory
) -> None:
    # GIVEN a one-second delay for one request
    add_fault(endpoint, service="kms", operation="ListKeys", delay_seconds=1.0, times=1)
    kms = aws("kms")
    # WHEN the operation is called twice THEN the first answer is late but normal
    started = time.monotonic()
    kms.list_keys()
    delayed = time.monotonic() - started
    started = time.monotonic()
    kms.list_keys()
    assert delayed >= 1.0 > time.monotonic() - started


def test_an_invalid_fault_rule_is_refused_with_the_reason(endpoint: str) -> None:
    with pytest.raises(EmulatorError, match="probability must be a number"):
        add_fault(endpoint, service="s3", error={"code": "X"}, probability=2)
    with pytest.raises(EmulatorError, match="unknown field"):
        add_fault(endpoint, service="s3", error={"code": "X"}, operations=["PutObject"])


# -- STS trust policies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_name", "principal", "allowed"),
    [
        ("root-arn", {"AWS": "arn:aws:iam::333333333333:root"}, True),
        ("account-id", {"AWS": "333333333333"}, True),
        ("one-of-two", {"AWS": ["arn:aws:iam::444444444444:root", "333333333333"]}, True),
        ("anyone", "*", True),
        ("other-account", {"AWS": "arn:aws:iam::444444444444:root"}, False),
        ("a-role-only", {"AWS": "arn:aws:iam::333333333333:role/somebody-else"}, False),
        ("a-service", {"Service": "lambda.amazonaws.com"}, False),
    ],
)
def test_assume_role_as_an_account_root_follows_the_trust_policy(
    aws: ClientFactory, role_name: str, principal: Any, allowed: bool
) -> None:
    # GIVEN a role in account 2 trusting the principal (a trusted role must exist, as in IAM)
    if role_name == "a-role-only":
        aws("iam", "333333333333").create_role(
            RoleName="somebody-else", AssumeRolePolicyDocument=_policy(_trust("*"))
        )
    role_arn = aws("iam", "222222222222").create_role(
        RoleName=role_name, AssumeRolePolicyDocument=_policy(_trust(principal))
    )["Role"]["Arn"]
    sts = aws("sts", "333333333333")
    # WHEN account 3's root assumes it THEN AWS's decision and message follow
    if allowed:
        session = sts.assume_role(RoleArn=role_arn, RoleSessionName="root-call")
        assert session["AssumedRoleUser"]["Arn"] == (
            f"arn:aws:sts::222222222222:assumed-role/{role_name}/root-call"
        )
    else:
        assert _error(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="root-call")) == (
            "AccessDenied",
            "User: arn:aws:iam::333333333333:root is not authorized to perform: "
            f"sts:AssumeRole on resource: {role_arn}",
            403,
        )


def test_assume_role_of_a_missing_role_is_denied(aws: ClientFactory) -> None:
    missing = "arn:aws:iam::222222222222:role/does-not-exist"
    assert _error(
        lambda: aws("sts", "333333333333").assume_role(RoleArn=missing, RoleSessionName="s1")
    ) == (
        "AccessDenied",
        "User: arn:aws:iam::333333333333:root is not authorized to perform: "
        f"sts:AssumeRole on resource: {missing}",
        403,
    )


def test_a_role_session_may_assume_only_roles_trusting_its_role(aws: ClientFactory) -> None:
    # GIVEN role "hop" in account 5 trusted by account 3, and in account 6 one role trusting
    # "hop" by ARN and one trusting another role, with an explicit deny for "hop" as well
    hop_arn = aws("iam", "555555555555").create_role(
        RoleName="hop", AssumeRolePolicyDocument=_policy(_trust({"AWS": "333333333333"}))
    )["Role"]["Arn"]
    # Across accounts the caller needs its own grant too (IAM is enforced); trust decides here.
    aws("iam", "555555555555").put_role_policy(
        RoleName="hop", PolicyName="assume", PolicyDocument=_policy(_assume_anything())
    )
    target_iam = aws("iam", "666666666666")
    trusted_arn = target_iam.create_role(
        RoleName="trusts-hop", AssumeRolePolicyDocument=_policy(_trust({"AWS": hop_arn}))
    )["Role"]["Arn"]
    denied_arn = target_iam.create_role(
        RoleName="denies-hop",
        AssumeRolePolicyDocument=_policy(
            _trust({"AWS": "666666666666"}), _trust({"AWS": hop_arn}, effect="Deny")
        ),
    )["Role"]["Arn"]
    hop = aws("sts", "333333333333").assume_role(RoleArn=hop_arn, RoleSessionName="hop-session")
    hop_sts = aws("sts", **hop["Credentials"])
    assert hop_sts.get_caller_identity()["Arn"] == hop["AssumedRoleUser"]["Arn"]
    # WHEN the hop session assumes both THEN the trusting role lets it in, the other refuses
    chained = hop_sts.assume_role(RoleArn=trusted_arn, RoleSessionName="second")
    assert chained["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::666666666666:assumed-role/trusts-hop/second"
    )
    code, message, _ = _error(
        lambda: hop_sts.assume_role(RoleArn=denied_arn, RoleSessionName="second")
    )
    assert (code, message) == (
        "AccessDenied",
        "User: arn:aws:sts::555555555555:assumed-role/hop/hop-session is not authorized to "
        f"perform: sts:AssumeRole on resource: {denied_arn}",
    )


# -- Lambda identity ----------------------------------------------------------------------------

ASSUMER_SOURCE = textwrap.dedent(
    """
    import boto3
    from botocore.exceptions import ClientError


    def handler(event, context):
        sts = boto3.client("sts")
        result = {"identity": sts.get_caller_identity()["Arn"]}
        for name, role_arn in event.items():
            try:
                result[name] = sts.assume_role(RoleArn=role_arn, RoleSessionName="copy")[
                    "AssumedRoleUser"]["Arn"]
            except ClientError as e:
                result[name] = e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]
        return result
    """
)


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("assumer.py", source)
    return buffer.getvalue()


def test_a_function_runs_as_its_execution_role_and_assumes_as_that_role(
    aws: ClientFactory,
) -> None:
    # GIVEN a function in account 7 with an execution role trusting Lambda, and in account 8
    # a role trusting that execution role and one trusting another role of account 7
    source_iam = aws("iam", "777777777777")
    execution_arn = source_iam.create_role(
        RoleName="copy-execution",
        AssumeRolePolicyDocument=_policy(_trust({"Service": "lambda.amazonaws.com"})),
    )["Role"]["Arn"]
    source_iam.put_role_policy(
        RoleName="copy-execution", PolicyName="assume", PolicyDocument=_policy(_assume_anything())
    )
    source_iam.create_role(  # trusted below: IAM refuses a trust naming a missing role
        RoleName="someone-else", AssumeRolePolicyDocument=_policy(_trust("*"))
    )
    target_iam = aws("iam", "888888888888")
    promotion_arn = target_iam.create_role(
        RoleName="promotion", AssumeRolePolicyDocument=_policy(_trust({"AWS": execution_arn}))
    )["Role"]["Arn"]
    other_arn = target_iam.create_role(
        RoleName="other",
        AssumeRolePolicyDocument=_policy(
            _trust({"AWS": "arn:aws:iam::777777777777:role/someone-else"})
        ),
    )["Role"]["Arn"]
    functions = aws("lambda", "777777777777")
    functions.create_function(
        FunctionName="copy",
        Runtime="python3.12",
        Role=execution_arn,
        Handler="assumer.handler",
        Code={"ZipFile": _zip(ASSUMER_SOURCE)},
        Timeout=20,
    )
    functions.get_waiter("function_active_v2").wait(FunctionName="copy")
    # WHEN it looks itself up and assumes both roles
    response = functions.invoke(
        FunctionName="copy",
        Payload=json.dumps({"promotion": promotion_arn, "other": other_arn}).encode(),
    )
    result = json.loads(response["Payload"].read())
    # THEN it is a session of its execution role named after the function, as in AWS
    identity = "arn:aws:sts::777777777777:assumed-role/copy-execution/copy"
    assert "FunctionError" not in response, result
    assert result == {
        "identity": identity,
        "promotion": "arn:aws:sts::888888888888:assumed-role/promotion/copy",
        "other": f"AccessDenied: User: {identity} is not authorized to perform: "
        f"sts:AssumeRole on resource: {other_arn}",
    }


def test_a_function_role_that_does_not_trust_lambda_is_refused(aws: ClientFactory) -> None:
    role_arn = aws("iam", "777777777777").create_role(
        RoleName="not-for-lambda",
        AssumeRolePolicyDocument=_policy(_trust({"Service": "ec2.amazonaws.com"})),
    )["Role"]["Arn"]
    code, message, _ = _error(
        lambda: aws("lambda", "777777777777").create_function(
            FunctionName="refused",
            Runtime="python3.12",
            Role=role_arn,
            Handler="assumer.handler",
            Code={"ZipFile": _zip(ASSUMER_SOURCE)},
        )
    )
    assert (code, message) == (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    )


# -- KMS key state in S3 ------------------------------------------------------------------------


@pytest.fixture
def kms_bucket(aws: ClientFactory) -> tuple[str, str]:
    """A bucket in account 9 whose default encryption is a customer key; (bucket, key ARN)."""
    key_arn = aws("kms", "999999999999").create_key()["KeyMetadata"]["Arn"]
    bucket = f"guards-kms-{key_arn.rsplit('/', 1)[-1][:8]}"
    s3 = aws("s3", "999999999999")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    }
                }
            ]
        },
    )
    return bucket, key_arn


def test_a_disabled_bucket_key_refuses_reads_and_writes_until_re_enabled(
    aws: ClientFactory, kms_bucket: tuple[str, str]
) -> None:
    bucket, key_arn = kms_bucket
    s3, kms = aws("s3", "999999999999"), aws("kms", "999999999999")
    s3.put_object(Bucket=bucket, Key="before", Body=b"written while enabled")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    # GIVEN the bucket's key is disabled
    kms.disable_key(KeyId=key_arn)
    disabled = ("KMS.DisabledException", f"{key_arn} is disabled.", 400)
    # WHEN objects are written, read or uploaded in parts THEN S3 answers as AWS does
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="after", Body=b"x")) == disabled
    assert _error(lambda: s3.get_object(Bucket=bucket, Key="before")) == disabled
    assert _error(lambda: s3.create_multipart_upload(Bucket=bucket, Key="parts")) == disabled
    upload_part = functools.partial(
        s3.upload_part, Bucket=bucket, Key="parts", UploadId=upload_id, PartNumber=1, Body=b"x"
    )
    assert _error(upload_part) == disabled
    assert (
        _error(
            lambda: s3.copy_object(
                Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "before"}
            )
        )
        == disabled
    )
    # AND once it is enabled again everything works
    kms.enable_key(KeyId=key_arn)
    s3.put_object(Bucket=bucket, Key="after", Body=b"x")
    upload_part()
    assert s3.get_object(Bucket=bucket, Key="before")["Body"].read() == b"written while enabled"


def test_a_key_pending_deletion_refuses_writes(
    aws: ClientFactory, kms_bucket: tuple[str, str]
) -> None:
    bucket, key_arn = kms_bucket
    s3, kms = aws("s3", "999999999999"), aws("kms", "999999999999")
    kms.schedule_key_deletion(KeyId=key_arn, PendingWindowInDays=7)
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == (
        "KMS.KMSInvalidStateException",
        f"{key_arn} is pending deletion.",
        400,
    )


def test_an_explicit_disabled_key_refuses_writes_to_an_unencrypted_bucket(
    aws: ClientFactory,
) -> None:
    s3, kms = aws("s3", "999999999999"), aws("kms", "999999999999")
    s3.create_bucket(Bucket="guards-plain")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/guards-disabled", TargetKeyId=key["KeyId"])
    kms.disable_key(KeyId=key["KeyId"])
    # The request may name the key by id, ARN or alias.
    for key_ref in (key["KeyId"], key["Arn"], "alias/guards-disabled"):
        put = functools.partial(
            s3.put_object,
            Bucket="guards-plain",
            Key="k",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_ref,
        )
        assert _error(put)[:2] == ("KMS.DisabledException", f"{key['Arn']} is disabled.")
    s3.put_object(Bucket="guards-plain", Key="unencrypted-is-fine", Body=b"x")


# -- switches and network -----------------------------------------------------------------------


def test_enforcement_can_be_switched_off_and_on_while_running(
    endpoint: str, aws: ClientFactory
) -> None:
    missing = "arn:aws:iam::222222222222:role/does-not-exist"
    kms, s3 = aws("kms"), aws("s3")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    s3.create_bucket(Bucket="guards-off")
    put = functools.partial(
        s3.put_object,
        Bucket="guards-off",
        Key="k",
        Body=b"x",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_id,
    )
    # WHEN trust and KMS key state are switched off on the running local cloud
    switched = change_settings(endpoint, enforce_trust=False, enforce_kms_state=False)
    assert (switched["enforce_trust"], switched["enforce_kms_state"]) == (False, False)
    # THEN it behaves as LocalStack itself: any role, any trusted principal, any key state
    session = aws("sts").assume_role(RoleArn=missing, RoleSessionName="unchecked")
    assert session["AssumedRoleUser"]["Arn"].endswith(":assumed-role/does-not-exist/unchecked")
    aws("iam").create_role(
        RoleName="trusts-missing", AssumeRolePolicyDocument=_policy(_trust({"AWS": missing}))
    )
    put()
    # AND switched back on, both are enforced again, from the next request
    assert reset_settings(endpoint)["enforce_trust"] is True
    denied = _error(lambda: aws("sts").assume_role(RoleArn=missing, RoleSessionName="checked"))
    assert denied[0] == "AccessDenied"
    assert _error(put)[0] == "KMS.DisabledException"


def test_a_bad_setting_is_refused_with_its_name_and_changes_nothing(endpoint: str) -> None:
    before = get_settings(endpoint)
    with pytest.raises(EmulatorError) as refused:
        change_settings(endpoint, enforce_trust=False, codepipeline_wait_scale=-1)
    assert "HTTP 400" in str(refused.value)
    assert "codepipeline_wait_scale must be a positive number or null" in str(refused.value)
    with pytest.raises(EmulatorError, match=r"unknown setting\(s\) enforce_everything"):
        change_settings(endpoint, enforce_everything=True)
    assert get_settings(endpoint) == before


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: picks a route, sends nothing
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses with a LISTEN socket on `port`, read from the kernel's tables."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        with table.open() as handle:
            next(handle)
            for line in handle:
                local, _remote, state = line.split()[1:4]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    found.add(address)
    return found


def test_the_gateway_listens_on_loopback_only(endpoint: str) -> None:
    port = int(endpoint.rsplit(":", 1)[1])
    # The kernel's own view: one listener, on 127.0.0.1 (0100007F), never 0.0.0.0 or ::.
    assert _listening_addresses(port) == {"0100007F"}
    # And from outside loopback, where this host has such an address, the port is closed.
    address = _non_loopback_address()
    if address is not None:
        with pytest.raises(ConnectionRefusedError), socket.create_connection((address, port), 2):
            pass
