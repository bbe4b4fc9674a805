"""The default chain, deployed into LocalStack with Terraform, promoting a real build through
the deployed copy functions: alpha (us-west-2) → beta (us-east-1) → prod (other account, eu-west-1).

Tests run in file order against one deployment; the last one destroys it and checks nothing is
left behind.
"""

from __future__ import annotations

import hashlib
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emulator.launcher import add_fault, clear_faults, list_faults
from tests.conftest import REPO_ROOT
from xrdeploy.local_chain import LocalDeployment, promote_through_chain, upload_build
from xrdeploy.packaging import build_zip
from xrdeploy.pipeline_emulator import JobResult

APP = "xrdeploy-demo"


@pytest.fixture(scope="module")
def chain(deploy_chain: Any) -> LocalDeployment:
    return deploy_chain(None)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_zip(REPO_ROOT / "sample_app", tmp_path_factory.mktemp("build") / "app.zip")


def s3_for(chain: LocalDeployment, stage: dict[str, Any]) -> Any:
    return chain.pipeline().client("s3", stage["account_id"], stage["region"])


def versions(chain: LocalDeployment, stage: dict[str, Any]) -> list[dict[str, Any]]:
    listed = s3_for(chain, stage).list_object_versions(
        Bucket=stage["source_bucket"], Prefix=stage["source_key"]
    )
    return [v for v in listed.get("Versions", []) if v["Key"] == stage["source_key"]]


def object_exists(s3: Any, bucket: str | None, key: str) -> bool:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)
    return any(o["Key"] == key for o in listed.get("Contents", []))


def wait_for(condition: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def promote_once(chain: LocalDeployment, stage: dict[str, Any], mutate: Any = None) -> JobResult:
    """Play one stage's pipeline; `mutate` may change the job event before the invoke."""
    run = chain.pipeline().run(stage, job_event_hook=mutate)
    assert run.job_result is not None
    return run.job_result


def user_parameters(event: dict[str, Any]) -> dict[str, Any]:
    config = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    return json.loads(config["UserParameters"])


def set_user_parameters(event: dict[str, Any], params: dict[str, Any]) -> None:
    config = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    config["UserParameters"] = json.dumps(params)


def test_every_stage_applied_and_replans_with_no_changes(chain: LocalDeployment) -> None:
    # GIVEN the chain applied into LocalStack (fixture), WHEN each stack is planned again
    assert chain.synthesis is not None
    runner = chain.runner()
    assert [s.name for s in chain.synthesis.stacks] == ["alpha", "beta", "prod"]
    for stack in chain.synthesis.stacks:
        # THEN Terraform sees nothing to change (exit code 0 of -detailed-exitcode)
        assert runner.terraform(stack).plan() == 0, stack.name
    # ... and the state lives in the S3 backend inside LocalStack, one object per stack
    state = s3_for(chain, chain.stage_outputs()[0]).list_objects_v2(
        Bucket=chain.chain.backend.bucket, Prefix="xrdeploy/"
    )
    keys = {o["Key"] for o in state.get("Contents", [])}
    assert {"xrdeploy/alpha.tfstate", "xrdeploy/beta.tfstate", "xrdeploy/prod.tfstate"} <= keys


def test_concurrent_apply_is_refused_by_the_s3_lockfile(chain: LocalDeployment) -> None:
    # GIVEN an apply holding alpha's state lock (a lockfile object beside the state in S3)
    assert chain.synthesis is not None
    terraform = chain.runner().terraform(chain.synthesis.stack("alpha"))
    first = terraform.start("apply", "-input=false", "-auto-approve")
    try:
        s3 = s3_for(chain, chain.stage_outputs()[0])
        lock_key = "xrdeploy/alpha.tfstate.tflock"
        assert wait_for(lambda: object_exists(s3, chain.chain.backend.bucket, lock_key))
        # WHEN a second run wants the same state
        second = terraform.run("plan", "-input=false", "-lock-timeout=0s", check=False)
        # THEN it is refused, naming the lock
        assert second.returncode == 1
        assert "Error acquiring the state lock" in second.stderr
    finally:
        output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, output
    assert not object_exists(s3, chain.chain.backend.bucket, lock_key)


def test_interrupted_apply_can_be_rerun_to_completion(chain: LocalDeployment) -> None:
    # GIVEN an apply replacing alpha's source bucket policy, interrupted mid-way (Ctrl-C)
    assert chain.synthesis is not None
    terraform = chain.runner().terraform(chain.synthesis.stack("alpha"))
    listed = terraform.run("state", "list").stdout.split()
    policy = next(a for a in listed if a.startswith("aws_s3_bucket_policy.") and "source" in a)
    interrupted = terraform.start("apply", "-input=false", "-auto-approve", f"-replace={policy}")
    assert interrupted.stdout is not None
    for line in interrupted.stdout:
        if "Destroying..." in line or "Creating..." in line:
            interrupted.send_signal(signal.SIGINT)
            break
    interrupted.communicate(timeout=300)
    # WHEN it is simply run again
    terraform.apply()
    # THEN the stage converges: nothing left to change
    assert terraform.plan() == 0


def test_build_travels_through_every_stage_unchanged(chain: LocalDeployment, build: Path) -> None:
    # GIVEN the sample app uploaded to alpha's source bucket
    expected = hashlib.sha256(build.read_bytes()).hexdigest()
    upload_build(chain, build)
    # WHEN each stage's pipeline runs, invoking its deployed copy function
    runs, hops = promote_through_chain(chain)
    # THEN both hops succeed, through LocalStack's Lambda, and prod's pipeline runs too
    assert [(h.source_stage, h.destination_stage, h.outcome) for h in hops] == [
        ("alpha", "beta", "success"),
        ("beta", "prod", "success"),
    ]
    assert [r.stage for r in runs] == ["alpha", "beta", "prod"]
    assert all(r.invocations == 1 for r in runs[:2])
    alpha, beta, prod = chain.stage_outputs()
    assert prod["account_id"] != alpha["account_id"] and prod["region"] != beta["region"]
    for downstream, upstream in ((beta, "alpha"), (prod, "beta")):
        # ... each destination holds exactly one version: the same bytes, named by its origin
        [version] = versions(chain, downstream)
        s3 = s3_for(chain, downstream)
        obj = s3.get_object(
            Bucket=downstream["source_bucket"],
            Key=downstream["source_key"],
            VersionId=version["VersionId"],
            ChecksumMode="ENABLED",
        )
        assert hashlib.sha256(obj["Body"].read()).hexdigest() == expected
        metadata = obj["Metadata"]
        assert metadata["xrdeploy-sha256"] == expected
        assert metadata["xrdeploy-app"] == APP
        assert metadata["xrdeploy-source-stage"] == upstream
        assert metadata["xrdeploy-source-version-id"]
        assert (
            metadata["xrdeploy-execution-id"] == runs[0 if upstream == "alpha" else 1].execution_id
        )
        assert obj["ServerSideEncryption"] == "aws:kms"


def test_retried_job_creates_no_new_version(chain: LocalDeployment) -> None:
    # GIVEN beta already holds alpha's current revision (previous test)
    alpha, beta, _ = chain.stage_outputs()
    before = versions(chain, beta)
    # WHEN alpha's pipeline runs again for the same revision
    result = promote_once(chain, alpha)
    # THEN the job succeeds without writing, so beta's pipeline is not started twice
    assert result.outcome == "success"
    assert result.summary is not None and "nothing written" in result.summary
    assert versions(chain, beta) == before


def test_missing_artifact_fails_and_writes_nothing(chain: LocalDeployment) -> None:
    alpha, beta, _ = chain.stage_outputs()
    before = versions(chain, beta)

    def lose_artifact(event: dict[str, Any]) -> None:
        location = event["CodePipeline.job"]["data"]["inputArtifacts"][0]["location"]
        location["s3Location"]["objectKey"] = "xrdeploy-demo-alpha/SourceArti/gone"

    result = promote_once(chain, alpha, lose_artifact)
    assert (result.outcome, result.failure_type) == ("failure", "JobFailed")
    assert result.message is not None
    assert "xrdeploy-demo-alpha/SourceArti/gone does not exist" in result.message
    assert versions(chain, beta) == before


def test_missing_destination_bucket_fails_with_configuration_error(chain: LocalDeployment) -> None:
    alpha = chain.stage_outputs()[0]

    def wrong_bucket(event: dict[str, Any]) -> None:
        params = user_parameters(event)
        params["destination"]["bucket"] = "xrdeploy-demo-beta-src-does-not-exist"
        set_user_parameters(event, params)

    result = promote_once(chain, alpha, wrong_bucket)
    assert (result.outcome, result.failure_type) == ("failure", "ConfigurationError")
    assert result.message is not None
    assert "destination bucket xrdeploy-demo-beta-src-does-not-exist does not exist" in (
        result.message
    )


def test_denied_write_fails_with_permission_error(chain: LocalDeployment) -> None:
    # GIVEN alpha's function told to write with a role that does not trust it (prod's promotion
    # role trusts only beta's copy function)
    alpha, beta, prod = chain.stage_outputs()
    before = versions(chain, beta)

    def untrusted_role(event: dict[str, Any]) -> None:
        params = user_parameters(event)
        params["destination"]["role_arn"] = prod["promotion_role_arn"]
        params["destination"]["account_id"] = prod["account_id"]
        set_user_parameters(event, params)

    result = promote_once(chain, alpha, untrusted_role)
    assert (result.outcome, result.failure_type) == ("failure", "PermissionError")
    assert result.message is not None and prod["promotion_role_arn"] in result.message
    assert versions(chain, beta) == before


def new_build(chain: LocalDeployment, label: str) -> str:
    """Upload a build no stage has seen to alpha; returns its sha256."""
    alpha = chain.stage_outputs()[0]
    body = f"xrdeploy build {label} {time.time_ns()}\n".encode() * 200
    s3_for(chain, alpha).put_object(
        Bucket=alpha["source_bucket"], Key=alpha["source_key"], Body=body
    )
    return hashlib.sha256(body).hexdigest()


def multipart_uploads(chain: LocalDeployment, stage: dict[str, Any]) -> list[dict[str, Any]]:
    listed = s3_for(chain, stage).list_multipart_uploads(Bucket=stage["source_bucket"])
    return list(listed.get("Uploads", []))


def current_sha(chain: LocalDeployment, stage: dict[str, Any]) -> str:
    head = s3_for(chain, stage).head_object(Bucket=stage["source_bucket"], Key=stage["source_key"])
    return str(head["Metadata"].get("xrdeploy-sha256", ""))


@pytest.fixture
def faults(chain: LocalDeployment) -> Any:
    """Fault injection in the emulator; every rule is cleared after the test."""
    endpoint = chain.emulator.endpoint
    clear_faults(endpoint)
    yield lambda **rule: add_fault(endpoint, **rule)
    clear_faults(endpoint)


def test_throttling_and_transient_errors_are_retried(chain: LocalDeployment, faults: Any) -> None:
    # GIVEN beta's bucket answering PutObject with SlowDown twice, then a 500 once
    alpha, beta, _ = chain.stage_outputs()
    expected = new_build(chain, "throttled")
    before = versions(chain, beta)
    faults(
        service="s3",
        operation="PutObject",
        resource=beta["source_bucket"],
        times=2,
        error={"code": "SlowDown", "message": "Please reduce your request rate.", "status": 503},
    )
    faults(
        service="s3",
        operation="PutObject",
        resource=beta["source_bucket"],
        times=1,
        error={
            "code": "InternalError",
            "message": "We encountered an internal error.",
            "status": 500,
        },
    )
    # WHEN alpha promotes
    result = promote_once(chain, alpha)
    # THEN the function's retries absorb the faults: one new version, the right bytes
    assert result.outcome == "success", result
    assert len(versions(chain, beta)) == len(before) + 1
    assert current_sha(chain, beta) == expected
    hits = [rule["hits"] for rule in list_faults(chain.emulator.endpoint)]
    assert hits == [2, 1]


def test_corrupted_upload_fails_then_clean_retry_succeeds(
    chain: LocalDeployment, faults: Any
) -> None:
    # GIVEN S3 detecting a corrupted body on every write to beta (BadDigest: the checksum sent
    # with the request does not match the bytes received)
    alpha, beta, _ = chain.stage_outputs()
    expected = new_build(chain, "corrupted")
    before = versions(chain, beta)
    faults(
        service="s3",
        operation="PutObject",
        resource=beta["source_bucket"],
        error={
            "code": "BadDigest",
            "status": 400,
            "message": "The SHA256 you specified did not match the calculated checksum.",
        },
    )
    # WHEN alpha promotes, THEN the job fails and nothing is visible or left behind
    result = promote_once(chain, alpha)
    assert (result.outcome, result.failure_type) == ("failure", "JobFailed")
    assert result.message is not None and "BadDigest" in result.message
    assert versions(chain, beta) == before
    assert multipart_uploads(chain, beta) == []
    # ... and once the fault is gone, the same revision promotes cleanly
    clear_faults(chain.emulator.endpoint)
    assert promote_once(chain, alpha).outcome == "success"
    assert current_sha(chain, beta) == expected


def test_disabled_key_fails_then_retry_succeeds_once_enabled(chain: LocalDeployment) -> None:
    # GIVEN beta's stage key disabled
    alpha, beta, _ = chain.stage_outputs()
    kms = chain.pipeline().client("kms", beta["account_id"], beta["region"])
    expected = new_build(chain, "kms")
    before = versions(chain, beta)
    kms.disable_key(KeyId=beta["kms_key_arn"])
    try:
        # WHEN alpha promotes, THEN the job fails naming the key problem and writes nothing
        result = promote_once(chain, alpha)
        assert (result.outcome, result.failure_type) == ("failure", "ConfigurationError")
        assert result.message is not None and "KMS" in result.message
        assert versions(chain, beta) == before
    finally:
        kms.enable_key(KeyId=beta["kms_key_arn"])
    assert promote_once(chain, alpha).outcome == "success"
    assert current_sha(chain, beta) == expected


def test_removed_trust_fails_with_permission_error_then_recovers(chain: LocalDeployment) -> None:
    # GIVEN prod's promotion role no longer trusting beta's copy function
    _, beta, prod = chain.stage_outputs()
    iam = chain.pipeline().client("iam", prod["account_id"], prod["region"])
    role = prod["promotion_role_arn"].rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    nobody = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "ec2.amazonaws.com"},
            }
        ],
    }
    before = versions(chain, prod)
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(nobody))
    try:
        # WHEN beta promotes its current build (not yet in prod), THEN access is denied
        new_build(chain, "trust")
        assert promote_once(chain, chain.stage_outputs()[0]).outcome == "success"
        result = promote_once(chain, beta)
        assert (result.outcome, result.failure_type) == ("failure", "PermissionError")
        assert result.message is not None and role in result.message
        assert versions(chain, prod) == before
    finally:
        policy = trust if isinstance(trust, str) else json.dumps(trust)
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=policy)
    # ... and with the trust restored the same revision arrives
    assert promote_once(chain, beta).outcome == "success"
    assert current_sha(chain, prod) == current_sha(chain, beta)


def test_hung_write_near_the_timeout_reports_in_time_and_the_retry_delivers(
    chain: LocalDeployment, faults: Any
) -> None:
    # GIVEN alpha's function limited to 30 s, and beta's bucket hanging every PutObject for 40 s
    # before failing (a write that never lands)
    alpha, beta, _ = chain.stage_outputs()
    functions = chain.pipeline().client("lambda", alpha["account_id"], alpha["region"])
    name = alpha["copy_function_name"]
    original = functions.get_function_configuration(FunctionName=name)["Timeout"]
    expected = new_build(chain, "hung")
    before = versions(chain, beta)
    faults(
        service="s3",
        operation="PutObject",
        resource=beta["source_bucket"],
        delay_seconds=40,
        error={
            "code": "RequestTimeout",
            "status": 400,
            "message": "Your socket connection to the server was not read from or written "
            "to within the timeout period.",
        },
    )
    reported: list[dict[str, Any]] = []

    def fault_gone_on_continuation(event: dict[str, Any]) -> None:
        reported.append(event)
        if event["CodePipeline.job"]["data"].get("continuationToken"):
            clear_faults(chain.emulator.endpoint)

    functions.update_function_configuration(FunctionName=name, Timeout=30)
    functions.get_waiter("function_updated_v2").wait(FunctionName=name)
    try:
        # WHEN alpha promotes
        started = time.monotonic()
        run = chain.pipeline().run(alpha, job_event_hook=fault_gone_on_continuation)
        elapsed = time.monotonic() - started
    finally:
        functions.update_function_configuration(FunctionName=name, Timeout=original)
        functions.get_waiter("function_updated_v2").wait(FunctionName=name)
    # THEN the first invocation reported before Lambda's timeout (a continuation, not a hang),
    # CodePipeline's second call delivered the build once, and nothing was left behind
    assert run.invocations == 2 and len(reported) == 2
    assert run.promoted, run.job_result
    assert elapsed < 60
    assert len(versions(chain, beta)) == len(before) + 1
    assert current_sha(chain, beta) == expected
    assert multipart_uploads(chain, beta) == []


LOAD = 50


def test_concurrent_promotions_each_arrive_exactly_once(chain: LocalDeployment, tmp_path) -> None:
    # GIVEN 50 different builds uploaded to alpha, one version each
    alpha, beta, _ = chain.stage_outputs()
    s3_alpha = s3_for(chain, alpha)
    builds: dict[str, str] = {}  # alpha version id -> sha256
    for index in range(LOAD):
        body = f"build {index}\n".encode() * 1000
        put = s3_alpha.put_object(Bucket=alpha["source_bucket"], Key=alpha["source_key"], Body=body)
        builds[put["VersionId"]] = hashlib.sha256(body).hexdigest()
    before = {v["VersionId"] for v in versions(chain, beta)}
    # WHEN all 50 pipeline executions promote at once
    pipeline = chain.pipeline()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=LOAD) as pool:
        runs = list(pool.map(lambda v: pipeline.run(alpha, source_version_id=v), builds))
    elapsed = time.monotonic() - started
    # THEN every job succeeded, and beta gained exactly one version per build: none lost, none
    # duplicated, each carrying the revision it came from
    assert all(run.promoted for run in runs), [r.job_result for r in runs if not r.promoted]
    new = [v for v in versions(chain, beta) if v["VersionId"] not in before]
    assert len(new) == LOAD
    s3_beta = s3_for(chain, beta)
    arrived: dict[str, str] = {}
    for version in new:
        head = s3_beta.head_object(
            Bucket=beta["source_bucket"], Key=beta["source_key"], VersionId=version["VersionId"]
        )
        arrived[head["Metadata"]["xrdeploy-source-version-id"]] = head["Metadata"][
            "xrdeploy-sha256"
        ]
    assert arrived == builds
    # ... stacked in the order the writes completed (S3 lists newest first)
    stamps = [v["LastModified"] for v in new]
    assert stamps == sorted(stamps, reverse=True)
    assert new[0]["IsLatest"]
    print(f"[load] {LOAD} concurrent promotions in {elapsed:.1f}s")  # noqa: T201


def test_copy_function_logs_reach_cloudwatch_logs(chain: LocalDeployment) -> None:
    alpha = chain.stage_outputs()[0]
    logs = chain.pipeline().client("logs", alpha["account_id"], alpha["region"])
    group = f"/aws/lambda/{alpha['copy_function_name']}"
    events = logs.filter_log_events(logGroupName=group)["events"]
    records = [json.loads(e["message"]) for e in events if e["message"].startswith("{")]
    outcomes = {r.get("outcome") for r in records}
    assert {"promoted", "skipped", "failed"} <= outcomes
    assert all(r.get("job_id") for r in records if r.get("outcome"))


def test_destroy_leaves_nothing_behind(chain: LocalDeployment) -> None:
    # WHEN every stage is destroyed (reverse chain order)
    chain.destroy()
    # THEN no bucket, role or function of the app is left, and the keys await deletion
    pipeline = chain.pipeline()
    for stage in chain.stage_outputs():
        account, region = stage["account_id"], stage["region"]
        buckets = pipeline.client("s3", account, region).list_buckets()["Buckets"]
        assert not [b["Name"] for b in buckets if b["Name"].startswith(f"{APP}-{stage['stage']}-")]
        roles = pipeline.client("iam", account, region).list_roles()["Roles"]
        assert not [r["RoleName"] for r in roles if r["RoleName"].startswith(f"{APP}-")]
        functions = pipeline.client("lambda", account, region).list_functions()["Functions"]
        assert not [f for f in functions if f["FunctionName"].startswith(f"{APP}-")]
        kms = pipeline.client("kms", account, region)
        ours = [
            metadata
            for metadata in (
                kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]
            )
            if metadata.get("Description", "").startswith(f"xrdeploy alias/{APP}-{stage['stage']}")
        ]
        assert ours, "the stage key should still be listed while it awaits deletion"
        assert {m["KeyState"] for m in ours} == {"PendingDeletion"}
