"""The default chain in the local cloud: alpha (us-west-2) → beta (us-east-1, manual approval) →
prod (other account, eu-west-1, two instances one at a time). Builds flow through the real
CodePipeline and CodeDeploy services of the local cloud; the tests only upload, answer approvals,
inject faults and read what happened through the AWS APIs.

Every test arranges what it needs on the shared deployment (`default_chain`), starting from quiet
pipelines, so they pass in any order.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emulator.launcher import add_fault, clear_faults, list_faults
from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import (
    current_sha,
    execution_ids,
    latest_deployment,
    pipeline_of,
    promote_of,
    quiesce,
    retry_failed_and_wait,
    s3_of,
    stage_outputs,
    start_and_wait,
    upload_bytes,
    versions,
    wait_for_run,
)
from tests.integration.polling import stays_false, wait_until
from xrdeploy.cli.main import run
from xrdeploy.console.chain_run import ChainFollower
from xrdeploy.console.pipelines import PipelineConsole, find_stage, stage_pipelines
from xrdeploy.packaging import build_zip
from xrdeploy.rehearsal.local_chain import LocalDeployment, upload_build
from xrdeploy.rehearsal.pages import instance_stage_tags, read_page

APP = "xrdeploy-demo"


@pytest.fixture
def chain(default_chain: LocalDeployment) -> Iterator[LocalDeployment]:
    quiesce(default_chain)
    clear_faults(default_chain.endpoint)
    yield default_chain
    clear_faults(default_chain.endpoint)


@pytest.fixture
def make_build(tmp_path: Path) -> Callable[..., Path]:
    """The sample app with its own VERSION (optionally with a page that fails validation)."""

    def make(version: str, *, break_validation: bool = False) -> Path:
        source = tmp_path / f"app-{version}"
        shutil.copytree(REPO_ROOT / "sample_app", source)
        (source / "VERSION").write_text(version + "\n")
        if break_validation:
            template = source / "site" / "index.html.template"
            template.write_text(template.read_text().replace("@VERSION@", "unknown"))
        return build_zip(source, tmp_path / f"app-{version}.zip")

    return make


def unique(label: str) -> str:
    return f"{label}-{time.time_ns() % 10**10}"


def test_every_resource_type_applied_and_replans_with_no_changes(chain: LocalDeployment) -> None:
    # GIVEN the chain applied into the local cloud (fixture), WHEN each stack is planned again
    assert chain.synthesis is not None
    runner = chain.runner()
    stacks = chain.synthesis.stacks
    assert [s.name for s in stacks] == ["alpha", "beta", "prod"]

    def replan(stack: Any) -> tuple[int, set[str]]:
        terraform = runner.terraform(stack)
        return terraform.plan(), {
            address.split(".")[0] for address in terraform.run("state", "list").stdout.split()
        }

    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        replans = list(pool.map(replan, stacks))
    for stack, (code, in_state) in zip(stacks, replans, strict=True):
        # THEN Terraform sees nothing to change (exit code 0 of -detailed-exitcode)
        assert code == 0, stack.name
        # ... and every resource type the stack declares is in its state: nothing left out
        declared = set(json.loads(stack.json_path.read_text())["resource"])
        assert declared <= in_state, declared - in_state
        assert {"aws_codepipeline", "aws_instance", "aws_codedeploy_deployment_group"} <= in_state
    # ... and the state lives in the S3 backend inside the local cloud, one object per stack
    first = chain.chain.stages[0]
    state = chain.client("s3", first.account_id, first.region).list_objects_v2(
        Bucket=chain.chain.backend.bucket, Prefix="xrdeploy/"
    )
    keys = {o["Key"] for o in state.get("Contents", [])}
    assert {"xrdeploy/alpha.tfstate", "xrdeploy/beta.tfstate", "xrdeploy/prod.tfstate"} <= keys


def test_the_stacks_were_created_last_stage_first_each_alone(chain: LocalDeployment) -> None:
    # GIVEN the shared deployment, applied by the session's fixture (conftest.deploy_chain)
    # THEN prod's stack came first, before any role of beta or alpha existed, then beta, then
    # alpha, one at a time: the tests that follow a build to prod run on stacks created against
    # the chain's order ...
    assert chain.applied == ["prod", "beta", "alpha"]
    # ... in a local cloud that refuses a trust policy naming a role that does not exist yet
    # (tests/integration/test_trust_principals.py), so no stack needed another to exist first
    with urllib.request.urlopen(f"{chain.endpoint}/_xrdeploy/guards", timeout=10) as response:
        assert json.loads(response.read())["enforce_trust"] is True


def test_one_upload_reaches_prod_by_itself(chain: LocalDeployment, make_build: Any) -> None:
    # GIVEN a new build of the sample app
    version = unique("1.1")
    build = make_build(version)
    expected = hashlib.sha256(build.read_bytes()).hexdigest()
    pipelines = stage_pipelines(chain.chain)
    follower = ChainFollower(
        pipelines,
        chain.clients,
        on_action=lambda *_: None,
        on_approval=lambda p, _: chain_console_approve(chain, p.stage),
    )
    known = follower.known_executions()
    # WHEN it is uploaded to alpha's bucket, and nothing else starts any pipeline
    upload_build(chain, build)
    results, hops = follower.follow(known)
    # THEN every stage deployed it and passed, in chain order, each started by EventBridge
    assert [(r.stage, r.status) for r in results] == [
        ("alpha", "Succeeded"),
        ("beta", "Succeeded"),
        ("prod", "Succeeded"),
    ]
    for result, pipeline in zip(results, pipelines, strict=True):
        new = execution_ids(chain, pipeline.stage) - known[pipeline.stage]
        assert new == {result.execution_id}, "exactly one execution per upload"
        summary = next(
            e
            for e in chain_console_executions(chain, pipeline.stage)
            if e["pipelineExecutionId"] == result.execution_id
        )
        assert summary["trigger"]["triggerType"] == "CloudWatchEvent"
        deployed = {a.action_name: a.status for a in result.actions}
        assert deployed["Deploy"] == "Succeeded"
    # ... each hop carried the same bytes, named by its origin
    assert [(h.source_stage, h.destination_stage) for h in hops] == [
        ("alpha", "beta"),
        ("beta", "prod"),
    ]
    for hop, upstream in zip(hops, results, strict=False):
        s3 = s3_of(chain, hop.destination_stage)
        obj = s3.get_object(Bucket=hop.bucket, Key=hop.key, VersionId=hop.version_id)
        assert hashlib.sha256(obj["Body"].read()).hexdigest() == expected
        metadata = obj["Metadata"]
        assert metadata["xrdeploy-sha256"] == expected
        assert metadata["xrdeploy-app"] == APP
        assert metadata["xrdeploy-source-stage"] == upstream.stage
        assert metadata["xrdeploy-execution-id"] == upstream.execution_id
        assert obj["ServerSideEncryption"] == "aws:kms"
    # ... and every instance of every stage serves the new version with its own stage and region
    assert_pages_show(chain, version)


def chain_console_approve(chain: LocalDeployment, stage: str) -> None:
    from xrdeploy.console.pipelines import PipelineConsole

    PipelineConsole(chain.clients).answer_approval(
        pipeline_of(chain, stage), approve=True, comment="approved by the test"
    )


def chain_console_executions(chain: LocalDeployment, stage: str) -> list[dict[str, Any]]:
    from xrdeploy.console.pipelines import PipelineConsole

    return PipelineConsole(chain.clients).executions(pipeline_of(chain, stage), 100)


def local_instance_urls(chain: LocalDeployment) -> dict[str, str]:
    from xrdeploy.rehearsal.local_cloud import local_instances

    return {i["instance_id"]: i["page_url"] for i in local_instances(chain.endpoint)}


def assert_pages_show(chain: LocalDeployment, version: str) -> None:
    urls = local_instance_urls(chain)
    for stage in chain.chain.stages:
        tagged = instance_stage_tags(
            chain.client("ec2", stage.account_id, stage.region), chain.chain.app.name
        )
        ours = [i for i, s in tagged.items() if s == stage.name]
        assert len(ours) == stage.fleet.instance_count, stage.name
        for instance_id in ours:
            page = read_page(instance_id, urls[instance_id])
            assert (page.version, page.stage, page.region) == (version, stage.name, stage.region)


def test_a_build_failing_validation_rolls_back_and_is_not_promoted(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN alpha running a good build
    good = unique("2.0")
    known = execution_ids(chain, "alpha")
    upload_build(chain, make_build(good))
    assert wait_for_run(chain, "alpha", known).status == "Succeeded"
    quiesce(chain)
    beta_before = versions(chain, "beta")
    # WHEN a build whose page fails ValidateService is uploaded
    known = execution_ids(chain, "alpha")
    upload_build(chain, make_build(unique("2.1"), break_validation=True))
    run = wait_for_run(chain, "alpha", known)
    # THEN alpha's Deploy fails, the pipeline stops there, and beta receives nothing
    assert run.status == "Failed"
    assert run.actions["Deploy"].status == "Failed"
    assert "Promote" not in run.actions
    assert versions(chain, "beta") == beta_before
    # ... and CodeDeploy rolled alpha back: its page shows the good version again
    codedeploy = chain.client("codedeploy", "111111111111", "us-west-2")
    rollback = latest_deployment(chain, "alpha")
    assert rollback["creator"] == "codeDeployRollback"
    codedeploy.get_waiter("deployment_successful").wait(deploymentId=rollback["deploymentId"])
    urls = local_instance_urls(chain)
    tagged = instance_stage_tags(chain.client("ec2", "111111111111", "us-west-2"), APP)
    [alpha_instance] = [i for i, s in tagged.items() if s == "alpha"]
    assert read_page(alpha_instance, urls[alpha_instance]).version == good


def test_a_rerun_of_the_same_revision_writes_nothing(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN a good build deployed in alpha and promoted to beta
    _, known = new_alpha_build(chain, make_build, "rerun")
    assert wait_for_run(chain, "alpha", known).status == "Succeeded"
    quiesce(chain)
    before = versions(chain, "beta")
    known_beta = execution_ids(chain, "beta")
    # WHEN alpha's pipeline runs again for the same revision
    run = start_and_wait(chain, "alpha")
    # THEN the promotion succeeds without writing, so beta's pipeline is not started twice
    assert promote_of(run).status == "Succeeded"
    assert "nothing written" in promote_of(run).summary
    assert versions(chain, "beta") == before
    # S3 -> EventBridge starts a pipeline within a second or two here; a write would have done so
    # well within 10 s, so no new execution of beta for that long means none was started.
    stays_false(
        lambda: execution_ids(chain, "beta") != known_beta, "beta started again", seconds=10
    )


def test_a_rejected_approval_stops_the_build_before_prod(
    chain: LocalDeployment, make_build: Any
) -> None:
    prod_before = versions(chain, "prod")
    known = execution_ids(chain, "beta")
    # WHEN a new build reaches beta and its approval is rejected
    upload_bytes(chain, "beta", make_build(unique("3.0")).read_bytes())
    run = wait_for_run(chain, "beta", known, approve=False)
    # THEN beta's execution fails at the approval and prod receives nothing
    assert run.status == "Failed"
    assert run.actions["Approve"].status == "Failed"
    assert "Promote" not in run.actions
    assert versions(chain, "prod") == prod_before


def test_a_newer_build_supersedes_the_one_waiting_to_enter_the_approval(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN a build waiting at beta's approval, and a second one waiting to enter that stage
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", make_build(unique("4.0")).read_bytes())
    first = wait_for_approval(chain, "beta", known)
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", make_build(unique("4.1")).read_bytes())
    second = wait_new(chain, "beta", known)
    wait_until(lambda: second in inbound(chain, "beta", "Approve"), "second waits for Approve")
    # WHEN a third build arrives at that stage too
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", make_build(unique("4.2")).read_bytes())
    third = wait_new(chain, "beta", known)
    # THEN (SUPERSEDED mode, as on AWS) the second is superseded by the third, and once the first
    # is answered the third is the one that reaches the approval
    wait_for_status(chain, "beta", second, "Superseded")
    wait_until(lambda: third in inbound(chain, "beta", "Approve"), "third waits for Approve")
    chain_console_approve(chain, "beta")
    wait_for_status(chain, "beta", first, "Succeeded")
    assert wait_for_approval(chain, "beta", set(), execution_id=third) == third
    assert status_of(chain, "beta", second) == "Superseded"


def inbound(chain: LocalDeployment, stage: str, pipeline_stage: str) -> set[str]:
    from xrdeploy.console.pipelines import PipelineConsole

    state = PipelineConsole(chain.clients).state(pipeline_of(chain, stage))
    for stage_state in state["stageStates"]:
        if stage_state["stageName"] == pipeline_stage:
            waiting = stage_state.get("inboundExecutions") or []
            if stage_state.get("inboundExecution"):
                waiting = [*waiting, stage_state["inboundExecution"]]
            return {w["pipelineExecutionId"] for w in waiting}
    return set()


def wait_for_approval(
    chain: LocalDeployment, stage: str, known: set[str], execution_id: str | None = None
) -> str:
    execution_id = execution_id or wait_new(chain, stage, known)
    waiting_approval(chain, stage, execution_id)
    return execution_id


def wait_new(chain: LocalDeployment, stage: str, known: set[str]) -> str:
    from xrdeploy.console.pipelines import PipelineConsole

    summary = PipelineConsole(chain.clients).wait_for_new_execution(
        pipeline_of(chain, stage), known, 120
    )
    return str(summary["pipelineExecutionId"])


def status_of(chain: LocalDeployment, stage: str, execution_id: str) -> str:
    from xrdeploy.console.pipelines import PipelineConsole

    execution = PipelineConsole(chain.clients).execution(pipeline_of(chain, stage), execution_id)
    return str(execution["status"])


def wait_for_status(chain: LocalDeployment, stage: str, execution_id: str, status: str) -> None:
    wait_until(
        lambda: status_of(chain, stage, execution_id) == status, f"{execution_id} to be {status}"
    )


def test_a_missing_artifact_fails_the_promotion_and_writes_nothing(
    chain: LocalDeployment, make_build: Any
) -> None:
    prod_before = versions(chain, "prod")
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", make_build(unique("5.0")).read_bytes())
    beta = stage_outputs(chain, "beta")
    s3 = s3_of(chain, "beta")

    def lose_artifacts(_: Any) -> None:
        # The artifact store loses this execution's input while the approval waits.
        listed = s3.list_object_versions(Bucket=beta["artifact_bucket"])
        for version in listed.get("Versions", []):
            s3.delete_object(
                Bucket=beta["artifact_bucket"], Key=version["Key"], VersionId=version["VersionId"]
            )

    run = wait_for_run(chain, "beta", known, before_answer=lose_artifacts)
    assert promote_of(run).status == "Failed"
    assert promote_of(run).error_code == "JobFailed"
    assert "does not exist" in promote_of(run).error_message
    assert versions(chain, "prod") == prod_before


def promote_parameters(chain: LocalDeployment, stage: str) -> tuple[Any, dict[str, Any]]:
    pipeline = pipeline_of(chain, stage)
    codepipeline = chain.client("codepipeline", pipeline.account_id, pipeline.region)
    declaration = codepipeline.get_pipeline(name=pipeline.pipeline)["pipeline"]
    return codepipeline, declaration


def with_promote_destination(
    chain: LocalDeployment, stage: str, **changes: str
) -> Callable[[], None]:
    """Change the Promote action's destination through UpdatePipeline (as a mistaken edit in the
    console would); returns the function that restores the declaration."""
    codepipeline, declaration = promote_parameters(chain, stage)
    original = json.loads(json.dumps(declaration))
    for pipeline_stage in declaration["stages"]:
        for action in pipeline_stage["actions"]:
            if action["name"] == "Promote":
                params = json.loads(action["configuration"]["UserParameters"])
                params["destination"].update(changes)
                action["configuration"]["UserParameters"] = json.dumps(params)
    codepipeline.update_pipeline(pipeline=declaration)
    return lambda: codepipeline.update_pipeline(pipeline=original)


def test_a_missing_destination_bucket_fails_with_a_configuration_error(
    chain: LocalDeployment, make_build: Any
) -> None:
    restore = with_promote_destination(chain, "alpha", bucket="xrdeploy-demo-beta-src-missing")
    try:
        _, known = new_alpha_build(chain, make_build, "missing-bucket")
        run = wait_for_run(chain, "alpha", known)
    finally:
        restore()
    assert promote_of(run).status == "Failed"
    assert promote_of(run).error_code == "ConfigurationError"
    assert "xrdeploy-demo-beta-src-missing" in promote_of(run).error_message


def test_a_destination_role_that_does_not_trust_the_function_is_a_permission_error(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN alpha's Promote told to write with prod's promotion role, which trusts only beta's
    # copy function
    prod = stage_outputs(chain, "prod")
    before = versions(chain, "beta")
    restore = with_promote_destination(
        chain, "alpha", role_arn=prod["promotion_role_arn"], account_id=prod["account_id"]
    )
    try:
        _, known = new_alpha_build(chain, make_build, "untrusted")
        run = wait_for_run(chain, "alpha", known)
    finally:
        restore()
    assert promote_of(run).error_code == "PermissionError"
    assert prod["promotion_role_arn"] in promote_of(run).error_message
    assert versions(chain, "beta") == before


def new_alpha_build(chain: LocalDeployment, make_build: Any, label: str) -> tuple[str, set[str]]:
    """Upload a build no stage has seen to alpha; returns its sha256 and the executions before."""
    known = execution_ids(chain, "alpha")
    sha = upload_bytes(chain, "alpha", make_build(unique(label)).read_bytes())
    return sha, known


def test_throttling_and_transient_errors_are_retried(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN beta's bucket answering PutObject with SlowDown twice, then a 500 once
    beta = stage_outputs(chain, "beta")
    for times, error in (
        (2, {"code": "SlowDown", "message": "Please reduce your request rate.", "status": 503}),
        (
            1,
            {
                "code": "InternalError",
                "message": "We encountered an internal error.",
                "status": 500,
            },
        ),
    ):
        add_fault(
            chain.endpoint,
            service="s3",
            operation="PutObject",
            resource=beta["source_bucket"],
            times=times,
            error=error,
        )
    before = versions(chain, "beta")
    # WHEN alpha promotes a new build
    expected, known = new_alpha_build(chain, make_build, "throttled")
    run = wait_for_run(chain, "alpha", known)
    # THEN the function's retries absorb the faults: one new version, the right bytes
    assert promote_of(run).status == "Succeeded", promote_of(run)
    assert len(versions(chain, "beta")) == len(before) + 1
    assert current_sha(chain, "beta") == expected
    assert [rule["hits"] for rule in list_faults(chain.endpoint)] == [2, 1]


def test_a_corrupted_upload_fails_then_a_stage_retry_delivers(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN S3 detecting a corrupted body on every write to beta
    beta = stage_outputs(chain, "beta")
    add_fault(
        chain.endpoint,
        service="s3",
        operation="PutObject",
        resource=beta["source_bucket"],
        error={
            "code": "BadDigest",
            "status": 400,
            "message": "The SHA256 you specified did not match the calculated checksum.",
        },
    )
    before = versions(chain, "beta")
    expected, known = new_alpha_build(chain, make_build, "corrupted")
    # WHEN alpha promotes, THEN the job fails and nothing is visible or left behind
    run = wait_for_run(chain, "alpha", known)
    assert promote_of(run).error_code == "JobFailed"
    assert "BadDigest" in promote_of(run).error_message
    assert versions(chain, "beta") == before
    assert multipart_uploads(chain, "beta") == []
    # ... and once the fault is gone, retrying the failed stage promotes the same revision
    clear_faults(chain.endpoint)
    assert retry_failed_and_wait(chain, "alpha", run).status == "Succeeded"
    assert current_sha(chain, "beta") == expected


def test_a_disabled_key_fails_then_the_retry_succeeds_once_enabled(
    chain: LocalDeployment, make_build: Any
) -> None:
    beta = stage_outputs(chain, "beta")
    kms = chain.client("kms", beta["account_id"], beta["region"])
    before = versions(chain, "beta")
    expected, known = new_alpha_build(chain, make_build, "kms")
    # GIVEN beta's stage key disabled once alpha's deployment is under way
    kms.disable_key(KeyId=beta["kms_key_arn"])
    try:
        run = wait_for_run(chain, "alpha", known)
        assert promote_of(run).error_code == "ConfigurationError"
        assert "KMS" in promote_of(run).error_message
        assert versions(chain, "beta") == before
    finally:
        kms.enable_key(KeyId=beta["kms_key_arn"])
    assert retry_failed_and_wait(chain, "alpha", run).status == "Succeeded"
    assert current_sha(chain, "beta") == expected


def test_removed_trust_is_a_permission_error_then_the_retry_recovers(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN prod's promotion role no longer trusting beta's copy function
    prod = stage_outputs(chain, "prod")
    iam = chain.client("iam", prod["account_id"], prod["region"])
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
    before = versions(chain, "prod")
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(nobody))
    try:
        known = execution_ids(chain, "beta")
        expected = upload_bytes(chain, "beta", make_build(unique("6.0")).read_bytes())
        run = wait_for_run(chain, "beta", known)
        assert promote_of(run).error_code == "PermissionError"
        assert role in promote_of(run).error_message
        assert versions(chain, "prod") == before
    finally:
        policy = trust if isinstance(trust, str) else json.dumps(trust)
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=policy)
    assert retry_failed_and_wait(chain, "beta", run).status == "Succeeded"
    assert current_sha(chain, "prod") == expected


def test_a_hung_write_near_the_timeout_continues_and_delivers_once(
    chain: LocalDeployment, make_build: Any
) -> None:
    # GIVEN alpha's function limited to 30 s, and every PutObject to beta hanging for 40 s
    # before failing (a write that never lands)
    alpha, beta = stage_outputs(chain, "alpha"), stage_outputs(chain, "beta")
    functions = chain.client("lambda", alpha["account_id"], alpha["region"])
    name = alpha["copy_function_name"]
    original = functions.get_function_configuration(FunctionName=name)["Timeout"]
    add_fault(
        chain.endpoint,
        service="s3",
        operation="PutObject",
        resource=beta["source_bucket"],
        delay_seconds=40,
        error={"code": "RequestTimeout", "status": 400, "message": "Your socket timed out."},
    )
    before = versions(chain, "beta")
    logs = chain.client("logs", alpha["account_id"], alpha["region"])
    paused_before = len(paused_records(logs, name))
    functions.update_function_configuration(FunctionName=name, Timeout=30)
    functions.get_waiter("function_updated_v2").wait(FunctionName=name)
    try:
        # WHEN alpha promotes a new build, and the write recovers once the function has paused
        expected, known = new_alpha_build(chain, make_build, "hung")
        wait_until(
            lambda: len(paused_records(logs, name)) > paused_before,
            "the function to report a continuation",
            timeout=180,
        )
        clear_faults(chain.endpoint)
        run = wait_for_run(chain, "alpha", known)
    finally:
        functions.update_function_configuration(FunctionName=name, Timeout=original)
        functions.get_waiter("function_updated_v2").wait(FunctionName=name)
    # THEN the invocation reported a continuation before Lambda's timeout (not a hang),
    # CodePipeline invoked again, and that delivered the build once with nothing left behind
    assert promote_of(run).status == "Succeeded", promote_of(run)
    assert len(versions(chain, "beta")) == len(before) + 1
    assert current_sha(chain, "beta") == expected
    assert multipart_uploads(chain, "beta") == []


def multipart_uploads(chain: LocalDeployment, stage: str) -> list[dict[str, Any]]:
    """Uploads left open in the stage's source bucket (a failed or paused copy must leave none)."""
    bucket = stage_outputs(chain, stage)["source_bucket"]
    return list(s3_of(chain, stage).list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def paused_records(logs: Any, function_name: str) -> list[str]:
    return [
        event["message"]
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function_name}"
        )
        for event in page["events"]
        if '"outcome": "paused"' in event["message"]
    ]


def test_copy_function_logs_reach_cloudwatch_logs(chain: LocalDeployment, make_build: Any) -> None:
    _, known = new_alpha_build(chain, make_build, "logs")
    wait_for_run(chain, "alpha", known)
    alpha = stage_outputs(chain, "alpha")
    logs = chain.client("logs", alpha["account_id"], alpha["region"])
    group = f"/aws/lambda/{alpha['copy_function_name']}"
    events = logs.filter_log_events(logGroupName=group)["events"]
    records = [json.loads(e["message"]) for e in events if e["message"].startswith("{")]
    assert any(r.get("outcome") in ("promoted", "skipped") for r in records)
    assert all(r.get("job_id") for r in records if r.get("outcome"))


# -- the operator's view: status and approve -------------------------------------------------


def waiting_approval(chain: LocalDeployment, stage: str, execution_id: str | None = None) -> Any:
    """The approval pending in `stage` (of `execution_id`, when given), once there is one."""
    console = PipelineConsole(chain.clients)
    pipeline = find_stage(stage_pipelines(chain.chain), stage)

    def pending() -> Any:
        found = console.pending_approval(pipeline)
        return found if found and execution_id in (None, found.execution_id) else None

    return wait_until(pending, f"an approval waiting in {stage} for {execution_id or 'any run'}")


def test_status_shows_the_waiting_approval_and_approve_answers_it(
    chain: LocalDeployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a build waiting at beta's approval
    source = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "sample_app", source)
    (source / "VERSION").write_text("7.0.0\n")
    known = execution_ids(chain, "beta")
    upload_bytes(chain, "beta", build_zip(source, tmp_path / "app.zip").read_bytes())
    pending = waiting_approval(chain, "beta")
    target = f"localstack={chain.endpoint}"
    capsys.readouterr()
    # WHEN the user asks for the status
    assert run(["status", "--target", target]) == 0
    shown = capsys.readouterr().out
    # THEN each stage's pipeline is listed with its actions, and beta's approval is in progress
    assert "xrdeploy-demo-beta-pipeline" in shown or "beta (111111111111/us-east-1)" in shown
    assert f"{pending.action_name}: InProgress" in shown
    # WHEN they approve it
    assert run(["approve", "beta", "--target", target, "--comment", "looks good"]) == 0
    assert "beta: approved" in capsys.readouterr().out
    # THEN beta's execution goes on and succeeds
    assert wait_for_run(chain, "beta", known, approve=None).status == "Succeeded"


def test_approve_with_nothing_waiting_is_one_line_and_exit_2(
    chain: LocalDeployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["approve", "alpha", "--target", f"localstack={chain.endpoint}"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert "no approval is waiting" in captured.err


def test_approve_names_an_unknown_stage(
    chain: LocalDeployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["approve", "gamma", "--target", f"localstack={chain.endpoint}"])
    assert code == 2
    assert "gamma" in capsys.readouterr().err


# -- the fleet in EC2 ----------------------------------------------------------------------


def test_fleet_runs_the_al2023_ami_with_its_profile_and_detailed_monitoring(
    default_chain: LocalDeployment,
) -> None:
    for stage in default_chain.chain.stages:
        ec2, ssm = (
            default_chain.client("ec2", stage.account_id, stage.region),
            default_chain.client("ssm", stage.account_id, stage.region),
        )
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
