"""Least privilege proven on the default chain, in necessity and in width (issues 11 and 24).

One promotion (alpha → beta, approved → prod) runs with IAM enforced, its copy functions and event
targets started cold (whatever ran before in the session); the guard records the inputs of every
evaluation. The replay (``tools/least_privilege.py``) then removes each statement of every policy
the chain created (and each action of a statement with several), re-evaluates the recorded requests,
and lists those that become denied: the step of the chain that needs the statement. An action no
recorded request needs must be named by a ``Need``. The width replay tightens every Resource,
Principal and Condition value of every Allow to the values the recorded requests used; one that
still allows them all is wider than its use and must be explained by a ``Width``.

Three over-grants are then replayed on the same record (no redeploy): an action added to a
statement that has a reason, the promotion role's object widened to ``bucket/*``, an action added
to a key-policy statement. Each must fail the checks.

A few mutations are then made for real, on the live chain (the policy changed through the IAM or
KMS API, a build uploaded): the chain fails with AccessDenied exactly where the replay said, and
passes again once the policy is restored.

``XRDEPLOY_UPDATE_DOCS=1`` writes the replay's table into docs/security-scan.md.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from emulator.least_privilege import (
    NodeEvaluator,
    Outcome,
    Step,
    baseline,
    mutated,
    replay_removals,
)
from emulator.least_privilege_width import AS_USED, replay_width
from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import (
    ActionOutcome,
    StageRun,
    execution_ids,
    pipeline_of,
    quiesce,
    retry_failed_and_wait,
    wait_for_run,
)
from tests.integration.least_privilege_runs import Replayed, assert_iam_enforced, replay_record
from tools.least_privilege import Proof, fetch_record
from tools.least_privilege_table import DEFAULT_CHAIN, Labels
from tools.least_privilege_verdicts import (
    Generated,
    stale_reasons,
    stale_widths,
    unexplained,
    width_findings,
)
from xrdeploy.config.naming import Naming
from xrdeploy.console.chain_run import ChainFollower
from xrdeploy.console.pipelines import PipelineConsole, stage_pipelines
from xrdeploy.packaging import build_zip
from xrdeploy.rehearsal.local_chain import LocalDeployment, upload_build

LEDGER_PATH = "/_xrdeploy/permissions"


def _gateway(endpoint: str, path: str, method: str = "GET") -> Any:
    request = urllib.request.Request(endpoint + path, method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _build(tmp: Path, version: str) -> Path:
    source = tmp / f"app-{version}"
    shutil.copytree(REPO_ROOT / "sample_app", source)
    (source / "VERSION").write_text(version + "\n")
    return build_zip(source, tmp / f"app-{version}.zip")


def _version(label: str) -> str:
    return f"{label}-{time.time_ns() % 10**10}"


def _start_cold(chain: LocalDeployment) -> None:
    """Retire the sessions the services keep from earlier tests of the session.

    A new Lambda environment assumes its function's role and creates its log stream; a warm one
    has done so already (and its process keeps the promotion roles it assumed). EventBridge keeps
    the session of a target's role until the target is put again. Left warm, the promotion would
    record none of it. A configuration update and a PutTargets with the same values start them
    afresh (as on AWS): no drift.
    """
    names = Naming(chain.chain.app.name)
    for stage in chain.chain.stages:
        events = chain.client("events", stage.account_id, stage.region)
        rule = names.source_rule(stage)
        targets = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert not events.put_targets(Rule=rule, Targets=targets)["FailedEntryCount"]
        if not chain.chain.downstream_of(stage.name):
            continue  # the last stage has no copy function
        lambda_ = chain.client("lambda", stage.account_id, stage.region)
        function = names.copy_function(stage)
        timeout = lambda_.get_function_configuration(FunctionName=function)["Timeout"]
        lambda_.update_function_configuration(FunctionName=function, Timeout=timeout)
        lambda_.get_waiter("function_updated_v2").wait(FunctionName=function)


@pytest.fixture(scope="module")
def replayed(default_chain: LocalDeployment, tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    """One promotion to prod with IAM enforced, and the replay of what it recorded."""
    chain = default_chain
    assert_iam_enforced(chain)
    quiesce(chain)
    _start_cold(chain)
    _gateway(chain.endpoint, LEDGER_PATH, "DELETE")  # this promotion's requests only
    pipelines = stage_pipelines(chain.chain)
    console = PipelineConsole(chain.clients)
    follower = ChainFollower(
        pipelines,
        chain.clients,
        on_action=lambda *_: None,
        on_approval=lambda p, _: console.answer_approval(p, approve=True, comment="test"),
    )
    known = follower.known_executions()
    upload_build(chain, _build(tmp_path_factory.mktemp("least-privilege"), _version("lp")))
    results, _ = follower.follow(known)
    assert [(r.stage, r.status) for r in results] == [
        ("alpha", "Succeeded"),
        ("beta", "Succeeded"),
        ("prod", "Succeeded"),
    ]
    return replay_record(chain, fetch_record(chain.endpoint), DEFAULT_CHAIN)


@pytest.fixture
def chain(default_chain: LocalDeployment) -> Iterator[LocalDeployment]:
    quiesce(default_chain)
    yield default_chain
    quiesce(default_chain)


def test_every_statement_is_needed_by_a_step_or_explained(replayed: Replayed) -> None:
    # GIVEN the replay of one promotion's requests against every mutation of every policy
    result = replayed.proof.removals
    kinds = {(g.stage, g.kind) for g in replayed.generated}
    assert {("beta", "promotion role"), ("prod", "source bucket"), ("alpha", "key")} <= kinds
    assert result.requests > 0
    # THEN unmutated, every recorded request gets the answer the guard gave it
    assert result.disagreements == ()
    # ... each mutation denies a step of the chain, or is explained, and no explanation is stale
    assert unexplained(result, replayed.generated) == []
    assert stale_reasons(result, replayed.generated) == []
    # ... e.g. the promotion role cannot encrypt the build it writes without kms:GenerateDataKey
    beta_promotion = replayed.policy("beta", "promotion role trust").id.split(":", 1)[1]
    encrypt = replayed.outcome("beta", "promotion role", "EncryptBuild", "kms:GenerateDataKey")
    assert {(p, a) for p, a, _ in encrypt.changed} == {(beta_promotion, "kms:GenerateDataKey")}


def test_every_granted_value_is_as_narrow_as_its_use_or_explained(replayed: Replayed) -> None:
    # GIVEN every Resource, Principal and Condition value (and wildcard action) of every Allow,
    # tightened to what the recorded requests it granted used
    width = replayed.proof.width
    fields = {o.element.field for o in width.outcomes}
    assert {"Resource", "Principal", "Condition", "Action"} <= fields
    # THEN each is as used, needed, or wider for a written reason; and no reason is stale
    assert width_findings(width, replayed.generated) == []
    assert stale_widths(width, replayed.generated) == []
    # ... e.g. the promotion role's object grant names exactly the object the copy function wrote
    deliver = [
        o
        for o in width.for_policy(replayed.policy("prod", "promotion role").id)
        if (o.element.label, o.element.field) == ("DeliverBuild", "Resource")
    ]
    assert [o.verdict for o in deliver] == [AS_USED]


def _replayed_with(
    replayed: Replayed, stage: str, kind: str, change: Callable[[dict[str, Any]], None]
) -> tuple[Proof, list[Generated]]:
    """Both replays of the recorded requests against one policy changed as ``change`` says."""
    policy = replayed.policy(stage, kind)
    document = json.loads(json.dumps(policy.document))
    change(document)
    generated = [
        replace(g, document=document) if g.id == policy.id else g for g in replayed.generated
    ]
    evaluate = NodeEvaluator()
    base = baseline(
        replayed.record["requests"], {g.id: g.document for g in generated}, [policy.id], evaluate
    )
    return Proof(replay_removals(base, evaluate), replay_width(base, evaluate)), generated


def _statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["Statement"] if s.get("Sid") == sid)
    return found


def _add_action(sid: str, action: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        statement = _statement(document, sid)
        listed = statement["Action"]
        statement["Action"] = [listed] if isinstance(listed, str) else list(listed)
        statement["Action"].append(action)

    return change


@pytest.mark.parametrize(
    ("kind", "sid", "action"),
    [
        ("CodeDeploy role", "FindInstancesByTag", "ec2:TerminateInstances"),
        ("key", "CloudWatchLogsForCopyFunction", "kms:ScheduleKeyDeletion"),
    ],
)
def test_an_action_added_to_an_explained_statement_fails(
    replayed: Replayed, kind: str, sid: str, action: str
) -> None:
    # GIVEN a statement whose every action has a written reason, and one action added to it
    proof, generated = _replayed_with(replayed, "beta", kind, _add_action(sid, action))
    # THEN the statement's reasons do not cover the new action, nor the statement with it
    assert unexplained(proof.removals, generated) == [
        ("beta", kind, sid, None),
        ("beta", kind, sid, action),
    ]


def test_the_promotion_object_widened_to_the_bucket_fails(replayed: Replayed) -> None:
    # GIVEN the promotion role's DeliverBuild widened from bucket/key to bucket/*
    def widen(document: dict[str, Any]) -> None:
        statement = _statement(document, "DeliverBuild")
        statement["Resource"] = [r.rsplit("/", 1)[0] + "/*" for r in _listed(statement["Resource"])]

    proof, generated = _replayed_with(replayed, "beta", "promotion role", widen)
    # THEN every action is still needed, but the resource is wider than the object written
    assert unexplained(proof.removals, generated) == []
    assert width_findings(proof.width, generated) == [
        (
            "beta",
            "promotion role",
            "DeliverBuild",
            "Resource",
            "arn:aws:s3:::<app>-<stage>-src-<account>-<region>/*",
        )
    ]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class LiveMutation:
    stage: str
    kind: str
    statement: str
    action: str | None
    failing_action: str  # the pipeline action of alpha that fails


def _apply(chain: LocalDeployment, policy: Generated, document: dict[str, Any]) -> None:
    """Put a policy document back through the API that owns it, as the account's root."""
    stage = next(s for s in chain.chain.stages if s.name == policy.stage)
    if policy.id.startswith("key-policy:"):
        kms = chain.client("kms", stage.account_id, stage.region)
        key = policy.id.removeprefix("key-policy:")
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(document))
        return
    role_arn, _, name = policy.id.partition(":inline:")
    iam = chain.client("iam", stage.account_id, stage.region)
    iam.put_role_policy(
        RoleName=role_arn.rsplit("/", 1)[1], PolicyName=name, PolicyDocument=json.dumps(document)
    )


def _denials(chain: LocalDeployment) -> set[Step]:
    """What the guard denied since the ledger was last emptied."""
    return {
        (principal["principal"], decision["action"], decision["resource"])
        for principal in _gateway(chain.endpoint, LEDGER_PATH)["principals"]
        for decision in principal["decisions"]
        if decision["decision"] == "denied"
    }


def _latest_attempt(chain: LocalDeployment, run: StageRun, action: str) -> ActionOutcome:
    """The action's newest attempt in the execution (a retried stage keeps the earlier ones)."""
    pipeline = pipeline_of(chain, "alpha")
    codepipeline = chain.client("codepipeline", pipeline.account_id, pipeline.region)
    details = codepipeline.list_action_executions(
        pipelineName=pipeline.pipeline, filter={"pipelineExecutionId": run.execution_id}
    )["actionExecutionDetails"]
    newest = max((d for d in details if d["actionName"] == action), key=lambda d: d["startTime"])
    error = ((newest.get("output") or {}).get("executionResult") or {}).get("errorDetails") or {}
    return ActionOutcome(newest["status"], "", error.get("code", ""), error.get("message", ""))


def _assert_denied_where_predicted(
    run: StageRun, latest: ActionOutcome, denied: set[Step], outcome: Outcome, labels: Labels
) -> None:
    # The step fails with AWS's AccessDenied (the pipeline action's error, or the copy
    # function's job failure that quotes its code) ...
    assert run.status == "Failed", run
    assert latest.status == "Failed", latest
    assert "AccessDenied" in latest.error_message, latest
    # ... and what the guard denied is what the replay predicted (artifact names differ by run)
    assert denied, "the guard denied nothing"
    predicted = {labels.step(step) for step in outcome.changed}
    assert {labels.step(step) for step in denied} <= predicted, (denied, predicted)


LIVE = (
    # The pipeline role cannot write the source revision into its artifact store: Source fails.
    LiveMutation("alpha", "pipeline role", "UseArtifactStore", "s3:PutObject", "Source"),
    # Beta's promotion role cannot encrypt the build: alpha's Promote (the copy function) fails.
    LiveMutation("beta", "promotion role", "EncryptBuild", "kms:GenerateDataKey", "Promote"),
    # Beta's key no longer delegates to IAM in its account: the same step fails, from the key.
    LiveMutation("beta", "key", "AccountIamDelegation", None, "Promote"),
)


def test_live_mutations_fail_where_the_replay_predicts(
    chain: LocalDeployment, replayed: Replayed, tmp_path: Path
) -> None:
    # GIVEN a build uploaded to alpha while its pipeline role lacks s3:PutObject on artifacts
    first = LIVE[0]
    run = _mutated_run(chain, replayed, first, lambda: _upload_alpha(chain, tmp_path))
    # WHEN each further mutation replaces the previous one and the failed stage is retried
    for mutation in LIVE[1:]:
        run = _mutated_run(chain, replayed, mutation, lambda r=run: _retry(chain, r))
    # THEN with every policy restored, the retry passes alpha, promotion included
    assert retry_failed_and_wait(chain, "alpha", run).status == "Succeeded"


def _upload_alpha(chain: LocalDeployment, tmp: Path) -> StageRun:
    known = execution_ids(chain, "alpha")
    upload_build(chain, _build(tmp, _version("mutated")))
    return wait_for_run(chain, "alpha", known, approve=None)


def _retry(chain: LocalDeployment, run: StageRun) -> StageRun:
    return retry_failed_and_wait(chain, "alpha", run)


def _mutated_run(
    chain: LocalDeployment,
    replayed: Replayed,
    mutation: LiveMutation,
    run_alpha: Callable[[], StageRun],
) -> StageRun:
    """Run alpha with one statement (or action) removed live; restore it whatever happens."""
    policy = replayed.policy(mutation.stage, mutation.kind)
    outcome = replayed.outcome(mutation.stage, mutation.kind, mutation.statement, mutation.action)
    _gateway(chain.endpoint, LEDGER_PATH, "DELETE")
    _apply(chain, policy, mutated(policy.document, outcome.mutation))
    try:
        run = run_alpha()
    finally:
        _apply(chain, policy, policy.document)
    denied = _denials(chain)
    latest = _latest_attempt(chain, run, mutation.failing_action)
    _assert_denied_where_predicted(run, latest, denied, outcome, replayed.labels)
    return run
