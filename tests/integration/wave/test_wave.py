"""The wave chain in the local cloud (tests/configs/local_wave.yaml): beta (a 1-minute bake on
the alarm beta-errors, rolled back if it fires) → prod-eu (222222222222/eu-west-1) and
prod-ap (333333333333/ap-southeast-2) at once, every stage notifying the queue xrdeploy-notices.

Builds flow through the real CodePipeline and CodeDeploy services of the local cloud; the tests
upload, set the alarm and read what happened through the AWS APIs. Each test starts from quiet
pipelines (fixture `wave`), so they pass in any order.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.integration.chain_runs import (
    execution_ids,
    s3_of,
    upload_bytes,
    versions,
)
from tests.integration.polling import wait_until
from tests.integration.wave.conftest import BuildMaker, set_alarm
from tests.integration.wave.wave_runs import (
    action_details,
    live_build,
    new_standard_execution,
    pages,
    rollbacks_of,
    rule_runs,
    stage_state,
    wait_for_end,
)
from xrdeploy.console.chain_run import ChainFollower
from xrdeploy.console.pipelines import stage_pipelines
from xrdeploy.rehearsal.local_chain import LocalDeployment, upload_build

WAVE = ("prod-eu", "prod-ap")


def unique(label: str) -> str:
    return f"{label}-{time.time_ns() % 10**10}"


def test_one_upload_reaches_every_stage_of_the_wave(
    wave: LocalDeployment, make_build: BuildMaker
) -> None:
    # GIVEN a new build
    version = unique("1.0")
    build = make_build(version)
    expected = hashlib.sha256(build.read_bytes()).hexdigest()
    follower = ChainFollower(
        stage_pipelines(wave.chain),
        wave.clients,
        on_action=lambda *_: None,
        on_approval=lambda *_: pytest.fail("the wave chain has no approval"),
    )
    known = follower.known_executions()
    # WHEN it is uploaded to beta's bucket, and nothing else starts a pipeline
    upload_build(wave, build)
    results, hops = follower.follow(known)
    # THEN every stage ran it and succeeded: beta after its bake, then both of the wave
    assert [(r.stage, r.status) for r in results] == [
        ("beta", "Succeeded"),
        ("prod-eu", "Succeeded"),
        ("prod-ap", "Succeeded"),
    ]
    beta = results[0]
    # ... beta's bake passed on its alarm before anything was promoted
    [bake] = rule_runs(wave, "beta", beta.execution_id)
    assert (bake["stageName"], bake["status"]) == ("Deploy", "Succeeded")
    assert bake["input"]["resolvedConfiguration"]["AlarmName"] == "beta-errors"
    # ... and one Promote step of beta's run, with one action per wave stage, delivered to both
    promote = [a for a in beta.actions if a.stage_name == "Promote"]
    assert sorted((a.action_name, a.status) for a in promote) == [
        ("Promote-prod-ap", "Succeeded"),
        ("Promote-prod-eu", "Succeeded"),
    ]
    assert [(h.source_stage, h.destination_stage) for h in hops] == [
        ("beta", "prod-eu"),
        ("beta", "prod-ap"),
    ]
    for hop in hops:
        assert hop.sha256 == expected
        head = s3_of(wave, hop.destination_stage).head_object(
            Bucket=hop.bucket, Key=hop.key, VersionId=hop.version_id
        )
        assert head["Metadata"]["xrdeploy-source-stage"] == "beta"
        assert head["Metadata"]["xrdeploy-execution-id"] == beta.execution_id
    # ... and every instance of every stage serves the build
    for stage in wave.chain.stages:
        assert set(pages(wave, stage.name)) == {version}, stage.name


def test_an_alarm_during_the_bake_holds_promotion_and_rolls_beta_back(
    wave: LocalDeployment, make_build: BuildMaker
) -> None:
    # GIVEN beta running a good build, and what the wave stages hold
    good_execution, good = live_build(wave, "beta", make_build)
    held = {stage: versions(wave, stage) for stage in WAVE}
    known = execution_ids(wave, "beta")
    # WHEN a new build deploys in beta and its alarm fires while the bake watches it
    upload_bytes(wave, "beta", make_build(unique("2.0")).read_bytes())
    bad = new_standard_execution(wave, "beta", known)

    def baking() -> bool:
        state = stage_state(wave, "beta", "Deploy")
        condition = state.get("onSuccessConditionState") or {}
        current = state["latestExecution"]["pipelineExecutionId"]
        return bool(
            current == bad and condition.get("latestExecution", {}).get("status") == "InProgress"
        )

    wait_until(baking, "beta's bake to start")
    set_alarm(wave.clients, "ALARM")
    # THEN the execution fails at the bake: its Deploy action succeeded, nothing was promoted
    assert wait_for_end(wave, "beta", bad)["status"] == "Failed"
    actions = {d["actionName"]: d["status"] for d in action_details(wave, "beta", bad)}
    assert actions == {"Source": "Succeeded", "Deploy": "Succeeded"}
    [bake] = rule_runs(wave, "beta", bad)
    assert (bake["stageName"], bake["status"]) == ("Deploy", "Failed")
    assert "beta-errors" in bake["output"]["executionResult"]["externalExecutionSummary"]
    # ... CodePipeline rolled Deploy back to the last execution that succeeded there
    [rollback] = wait_until(lambda: rollbacks_of(wave, "beta", bad), "beta's rollback")
    assert rollback["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == good_execution
    assert wait_for_end(wave, "beta", rollback["pipelineExecutionId"])["status"] == "Succeeded"
    assert set(pages(wave, "beta")) == {good}
    # ... and the wave stages received nothing
    assert {stage: versions(wave, stage) for stage in WAVE} == held
