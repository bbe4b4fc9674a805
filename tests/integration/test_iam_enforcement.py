"""IAM enforced in the local cloud: role sessions get AWS's answers, roots keep full rights.

The module runs in the session's own local cloud (``own_cloud``), started with the defaults, which
enforce IAM (the evaluator is ``emulator/iam_evaluator``, installed with ``npm ci``); its roles and
buckets have names of their own. Accounts 111111111111 and 222222222222
act as their roots (12-digit access key ids) to set things up; the requests under test are made
with sessions of roles created here.
"""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.launcher import (
    EmulatorError,
    LocalStackServer,
    change_settings,
    ensure_environment,
    reset_settings,
)
from tests.integration.conftest import LocalCloud
from xrdeploy.aws_clients import local_cloud_client

pytestmark = pytest.mark.integration

REGION = "us-east-1"
HOME = "111111111111"
OTHER = "222222222222"
LEDGER_PATH = "/_xrdeploy/permissions"
GUARDS_PATH = "/_xrdeploy/guards"
CERTIFICATE = "server.test.pem.crt"  # written by LocalStack at start (localstack.utils.ssl)
NO_RETRIES = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})
_names = itertools.count(1)

Clients = Callable[..., Any]


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str], sid: str = "") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {"Sid": sid, **statement} if sid else statement


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response["Error"]
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error.get("Message", ""), status


@pytest.fixture(scope="module")
def server(own_cloud: LocalCloud) -> Iterator[LocalStackServer]:
    assert own_cloud.server is not None  # own_cloud is always one this session started
    yield own_cloud.server
    reset_settings(own_cloud.endpoint)


@pytest.fixture(scope="module")
def endpoint(server: LocalStackServer) -> str:
    return server.endpoint


@pytest.fixture(scope="module")
def aws(server: LocalStackServer) -> Clients:
    """boto3 clients: as an account's root, or with a session's credentials; http or https.

    HTTPS goes to the same port, as ``localhost`` (LocalStack's certificate names localhost, not
    127.0.0.1), verified against the certificate LocalStack generated in its cache directory.
    """
    certificate = server.state_dir / "fs" / "var" / "lib" / "localstack" / "cache" / CERTIFICATE
    port = server.endpoint.rsplit(":", 1)[1]

    def client(
        service: str, account: str = HOME, *, https: bool = False, **credentials: str
    ) -> Any:
        return local_cloud_client(
            service,
            endpoint=f"https://localhost:{port}" if https else server.endpoint,
            account_id=account,
            region=REGION,
            credentials=credentials,
            config=NO_RETRIES,
            ca_bundle=str(certificate) if https else None,
        )

    return client


@pytest.fixture(scope="module")
def role_session(aws: Clients) -> Callable[..., dict[str, str]]:
    """A role in ``account`` with one inline policy, and a session of it (by the account root)."""

    def make(*statements: dict[str, Any], account: str = HOME) -> dict[str, str]:
        name = f"iam-test-role-{next(_names)}"
        iam = aws("iam", account)
        trust = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "sts:AssumeRole",
        }
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_policy(trust))
        if statements:
            iam.put_role_policy(
                RoleName=name, PolicyName="grants", PolicyDocument=_policy(*statements)
            )
        answer = aws("sts", account).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{name}", RoleSessionName="test"
        )
        credentials: dict[str, str] = answer["Credentials"]
        return {**credentials, "RoleName": name}

    return make


def _bucket(aws: Clients, account: str = HOME, **put: Any) -> str:
    name = f"iam-test-bucket-{account}-{next(_names)}"
    s3 = aws("s3", account)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="build.zip", Body=b"build", **put)
    return name


def _session(credentials: dict[str, str]) -> dict[str, str]:
    keys = ("AccessKeyId", "SecretAccessKey", "SessionToken")
    return {key: credentials[key] for key in keys}


def _ledger(endpoint: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(endpoint + LEDGER_PATH, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def test_a_role_without_the_action_is_denied(aws: Clients, role_session: Any) -> None:
    # GIVEN a role that may read objects of a bucket but not list it
    bucket = _bucket(aws)
    session = role_session(_allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    s3 = aws("s3", **_session(session))
    # WHEN it reads the object THEN it may
    assert s3.get_object(Bucket=bucket, Key="build.zip")["Body"].read() == b"build"
    # WHEN it lists the bucket THEN S3 answers AWS's AccessDenied for s3:ListBucket
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket, Prefix="build")
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:sts::{HOME}:assumed-role/{session['RoleName']}/test is not authorized"
        f' to perform: s3:ListBucket on resource: "arn:aws:s3:::{bucket}" because no'
        " identity-based policy allows the s3:ListBucket action"
    )


def test_head_object_needs_get_object(aws: Clients, role_session: Any) -> None:
    bucket = _bucket(aws)
    session = role_session(_allow("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
    s3 = aws("s3", **_session(session))
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="build.zip")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_cross_account_needs_the_bucket_policy_too(aws: Clients, role_session: Any) -> None:
    # GIVEN a role in one account granted s3:GetObject on a bucket of another account
    bucket = _bucket(aws, OTHER)
    session = role_session(_allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    role_arn = f"arn:aws:iam::{HOME}:role/{session['RoleName']}"
    s3 = aws("s3", **_session(session))
    # WHEN the bucket's policy admits somebody else THEN the read is denied
    someone_else = f"arn:aws:iam::{OTHER}:root"
    aws("s3", OTHER).put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": someone_else},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ),
    )
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="build.zip")
    code, message, _ = _error(excinfo)
    assert code == "AccessDenied"
    assert message.endswith("because no resource-based policy allows the s3:GetObject action")
    # WHEN the policy admits the role THEN it may read
    aws("s3", OTHER).put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ),
    )
    assert s3.get_object(Bucket=bucket, Key="build.zip")["Body"].read() == b"build"


def test_kms_encrypted_object_needs_kms_decrypt(aws: Clients, role_session: Any) -> None:
    # GIVEN an object encrypted with a customer managed key (default key policy: the account)
    key_arn = aws("kms").create_key()["KeyMetadata"]["Arn"]
    bucket = _bucket(aws, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    s3_read = _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    # WHEN a role that may read the object but not decrypt with the key reads it THEN denied
    without = aws("s3", **_session(role_session(s3_read)))
    with pytest.raises(ClientError) as excinfo:
        without.get_object(Bucket=bucket, Key="build.zip")
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert f"kms:Decrypt on resource: {key_arn} because no identity-based policy" in message
    # WHEN the role may decrypt, through S3 only THEN it reads the object
    via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    decrypt = {**_allow("kms:Decrypt", key_arn), "Condition": via_s3}
    with_decrypt = aws("s3", **_session(role_session(s3_read, decrypt)))
    assert with_decrypt.get_object(Bucket=bucket, Key="build.zip")["Body"].read() == b"build"
    # AND the same grant does not let it call KMS directly (kms:ViaService is absent)
    blob = aws("kms").encrypt(KeyId=key_arn, Plaintext=b"x")["CiphertextBlob"]
    kms = aws("kms", **_session(role_session(decrypt)))
    with pytest.raises(ClientError) as excinfo:
        kms.decrypt(CiphertextBlob=blob)
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDeniedException", 400)


def test_kms_encrypted_write_needs_generate_data_key(aws: Clients, role_session: Any) -> None:
    key_arn = aws("kms").create_key()["KeyMetadata"]["Arn"]
    bucket = _bucket(aws)
    write = _allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")
    s3 = aws("s3", **_session(role_session(write)))
    put = {"Bucket": bucket, "Key": "new.zip", "Body": b"new"}
    s3.put_object(**put)  # not encrypted with a customer managed key: no KMS check
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(**put, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    assert "kms:GenerateDataKey" in _error(excinfo)[1]
    s3 = aws("s3", **_session(role_session(write, _allow("kms:GenerateDataKey", key_arn))))
    s3.put_object(**put, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)


def test_tls_only_bucket_policy_denies_plain_http(aws: Clients, role_session: Any) -> None:
    # GIVEN a bucket whose policy denies every request without TLS, and a role that may read
    bucket = _bucket(aws)
    aws("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
    )
    session = _session(role_session(_allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    # WHEN it reads over plain HTTP THEN the explicit deny applies
    with pytest.raises(ClientError) as excinfo:
        aws("s3", **session).get_object(Bucket=bucket, Key="build.zip")
    code, message, _ = _error(excinfo)
    assert code == "AccessDenied"
    assert message.endswith("with an explicit deny in a resource-based policy")
    # WHEN it reads over TLS (same port) THEN it may
    s3_tls = aws("s3", https=True, **session)
    assert s3_tls.get_object(Bucket=bucket, Key="build.zip")["Body"].read() == b"build"


def test_roots_keep_full_rights(aws: Clients) -> None:
    bucket = _bucket(aws)
    aws("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
    )
    s3 = aws("s3")
    # Not judged at all: the guard leaves an account's root to LocalStack, as before.
    assert s3.get_object(Bucket=bucket, Key="build.zip")["Body"].read() == b"build"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_assume_role_needs_the_callers_permission_across_accounts(
    aws: Clients, role_session: Any
) -> None:
    # GIVEN a role in another account that trusts a role of this account by ARN
    caller = role_session()
    caller_arn = f"arn:aws:iam::{HOME}:role/{caller['RoleName']}"
    target = f"iam-test-target-{next(_names)}"
    aws("iam", OTHER).create_role(
        RoleName=target,
        AssumeRolePolicyDocument=_policy(
            {"Effect": "Allow", "Principal": {"AWS": caller_arn}, "Action": "sts:AssumeRole"}
        ),
    )
    target_arn = f"arn:aws:iam::{OTHER}:role/{target}"
    # WHEN the caller has no sts:AssumeRole grant THEN the trust policy alone is not enough
    with pytest.raises(ClientError) as excinfo:
        aws("sts", **_session(caller)).assume_role(RoleArn=target_arn, RoleSessionName="xr")
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDenied", 403)
    assert "because no identity-based policy allows the sts:AssumeRole action" in message
    # WHEN it has one THEN it may
    granted = role_session(_allow("sts:AssumeRole", target_arn))
    aws("iam", OTHER).update_assume_role_policy(
        RoleName=target,
        PolicyDocument=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HOME}:role/{granted['RoleName']}"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    answer = aws("sts", **_session(granted)).assume_role(RoleArn=target_arn, RoleSessionName="xr")
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER}:assumed-role/{target}/xr"


def test_the_ledger_records_each_decision(aws: Clients, role_session: Any, endpoint: str) -> None:
    # GIVEN an empty ledger and a role with one named statement
    _ledger(endpoint, "DELETE")
    bucket = _bucket(aws)
    session = role_session(_allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*", sid="ReadBuilds"))
    s3 = aws("s3", **_session(session))
    # WHEN it reads (allowed) and lists (denied)
    s3.get_object(Bucket=bucket, Key="build.zip")
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=bucket)
    # THEN the ledger has both, with the statement that allowed the read
    ledger = _ledger(endpoint)
    role_arn = f"arn:aws:iam::{HOME}:role/{session['RoleName']}"
    (entry,) = [p for p in ledger["principals"] if p["principal"] == role_arn]
    decisions = {(d["action"], d["resource"]): d for d in entry["decisions"]}
    read = decisions[("s3:GetObject", f"arn:aws:s3:::{bucket}/build.zip")]
    assert read["decision"] == "allowed"
    assert read["statements"] == [
        {"policy": "inline:grants", "sid": "ReadBuilds", "index": 1, "effect": "Allow"}
    ]
    listing = decisions[("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    assert listing["decision"] == "denied"
    assert listing["reason"] == "because no identity-based policy allows the s3:ListBucket action"
    assert entry["policies"] == [
        {
            "policy": "inline:grants",
            "sid": "ReadBuilds",
            "index": 1,
            "effect": "Allow",
            "actions": ["s3:GetObject"],
            "resources": [f"arn:aws:s3:::{bucket}/*"],
        }
    ]
    assert entry["sessions"] == [f"arn:aws:sts::{HOME}:assumed-role/{session['RoleName']}/test"]
    assert ledger["evaluator"]["evaluations"] >= 2
    # WHEN it is cleared THEN it is empty
    assert _ledger(endpoint, "DELETE")["cleared"] >= 2
    assert _ledger(endpoint)["principals"] == []


def test_enforcement_is_on_by_default(endpoint: str) -> None:
    with urllib.request.urlopen(endpoint + GUARDS_PATH, timeout=10) as response:
        assert json.loads(response.read())["enforce_iam"] is True


def test_enforcement_can_be_switched_off_and_on_while_running(
    aws: Clients, role_session: Any, endpoint: str
) -> None:
    # GIVEN a role that may not list a bucket
    bucket = _bucket(aws)
    s3 = aws("s3", **_session(role_session(_allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))))
    # WHEN enforcement is switched off THEN the listing passes, as in LocalStack itself
    assert change_settings(endpoint, enforce_iam=False)["enforce_iam"] is False
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    # AND switched back on, the next request is denied again
    assert change_settings(endpoint, enforce_iam=None)["enforce_iam"] is True
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket)
    assert _error(excinfo)[:1] == ("AccessDenied",)


# A fresh LocalStack each: what a start without the evaluator does cannot be seen on a running one.
def test_a_missing_evaluator_install_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    # GIVEN an evaluator directory `npm ci` cannot install (no package-lock.json), where the
    # launcher's first-use install fails
    server = LocalStackServer(
        ensure_environment(), extra_env={"XRDEPLOY_IAM_EVALUATOR": str(tmp_path)}
    )
    # WHEN the local cloud starts THEN it refuses at once, saying what failed or how to opt out
    with pytest.raises(EmulatorError) as excinfo:
        server.start()
    message = str(excinfo.value)
    assert "\n" not in message
    assert f"npm ci --prefix {tmp_path}" in message
    assert "XRDEPLOY_ENFORCE_IAM=0" in message
    assert server.pid is None
    # AND with enforcement switched off it does not need the evaluator
    off = LocalStackServer(
        ensure_environment(),
        extra_env={"XRDEPLOY_IAM_EVALUATOR": str(tmp_path), "XRDEPLOY_ENFORCE_IAM": "0"},
    )
    with off:
        with urllib.request.urlopen(off.endpoint + GUARDS_PATH, timeout=10) as response:
            assert json.loads(response.read())["enforce_iam"] is False
        # AND it cannot be switched on at run time: its evaluator never started
        with pytest.raises(EmulatorError) as refused:
            change_settings(off.endpoint, enforce_iam=True)
        assert "HTTP 400" in str(refused.value)
        assert "started with XRDEPLOY_ENFORCE_IAM=0" in str(refused.value)
