"""Gates as CodePipeline stage conditions, on plain data (no synthesis, no provider import): each
gate lands on the Deploy stage with the result CodePipeline allows there, and a wave gets one
Promote action per destination. The config → gates mapping is asserted on the synthesized JSON
(tests/synth/test_wave.py)."""

from __future__ import annotations

import json
from dataclasses import replace

from modules.pipeline_source import S3Source
from modules.pipeline_stages import (
    PipelineConfig,
    PipelineStageDefinition,
    PromotionTarget,
    StageGates,
    pipeline_definition,
)


def target(stage: str) -> PromotionTarget:
    return PromotionTarget(
        stage, f"b-{stage}", "app.zip", "eu-west-1", "5" * 12, f"arn:aws:iam::{'5' * 12}:role/r"
    )


BETA = PipelineConfig(
    app="wave",
    stage="beta",
    pipeline_name="wave-beta",
    role_name="wave-beta-pipeline",
    events_role_name="wave-beta-events",
    rule_name="wave-beta-source-changed",
    region="us-east-1",
    account_id="4" * 12,
    partition="aws",
    source=S3Source("src", "arn:aws:s3:::src", "app.zip"),
    artifact_bucket="art",
    artifact_bucket_arn="arn:aws:s3:::art",
    kms_key_arn="arn:aws:kms:us-east-1:444444444444:key/k",
    codedeploy_app="wave-beta",
    deployment_group="wave-beta-fleet",
    deployment_config="CodeDeployDefault.AllAtOnce",
    manual_approval=True,
    copy_function_name="wave-beta-promote",
    copy_function_arn="arn:aws:lambda:us-east-1:444444444444:function:wave-beta-promote",
    promotions=(target("prod-a"),),
)


def stages(config: PipelineConfig) -> dict[str, PipelineStageDefinition]:
    return {s.name: s for s in pipeline_definition(config)}


def test_bake_and_alarms_become_an_on_success_rollback_with_one_rule_per_alarm():
    gates = StageGates(bake_minutes=30, alarm_names=("beta-5xx", "beta-latency"))
    deploy = stages(replace(BETA, gates=gates))["Deploy"]
    assert deploy.on_success is not None and deploy.on_success.result == "ROLLBACK"
    assert [(r.provider, r.configuration) for r in deploy.on_success.rules] == [
        ("CloudWatchAlarm", {"AlarmName": "beta-5xx", "WaitTime": "30"}),
        ("CloudWatchAlarm", {"AlarmName": "beta-latency", "WaitTime": "30"}),
    ]
    assert len({r.name for r in deploy.on_success.rules}) == 2
    assert (deploy.before_entry, deploy.on_failure_result) == (None, None)


def test_alarms_without_a_bake_are_checked_once():
    deploy = stages(replace(BETA, gates=StageGates(alarm_names=("a",))))["Deploy"]
    assert deploy.on_success is not None
    assert [r.configuration for r in deploy.on_success.rules] == [{"AlarmName": "a"}]


def test_a_deployment_window_becomes_a_before_entry_condition():
    gates = StageGates(window_cron="0 0 9-16 ? * MON-THU *", window_time_zone="America/New_York")
    deploy = stages(replace(BETA, gates=gates))["Deploy"]
    assert deploy.before_entry is not None and deploy.before_entry.result == "FAIL"
    (rule,) = deploy.before_entry.rules
    assert (rule.provider, rule.configuration) == (
        "DeploymentWindow",
        {"Cron": "0 0 9-16 ? * MON-THU *", "TimeZone": "America/New_York"},
    )


def test_rollback_on_failure_is_the_deploy_stages_on_failure_result():
    deploy = stages(replace(BETA, gates=StageGates(rollback_on_failure=True)))["Deploy"]
    assert deploy.on_failure_result == "ROLLBACK"


def test_gates_never_leave_deploy_and_no_gates_means_no_conditions():
    every_gate = StageGates(
        bake_minutes=5, alarm_names=("a",), window_cron="0 * * ? * *", rollback_on_failure=True
    )
    for config in (BETA, replace(BETA, gates=every_gate)):
        for name, stage in stages(config).items():
            conditions = (stage.before_entry, stage.on_success, stage.on_failure_result)
            if name != "Deploy" or config is BETA:
                assert conditions == (None, None, None), name


def test_a_wave_promotes_with_one_action_per_destination_and_alone_keeps_its_name():
    wave = replace(BETA, promotions=tuple(target(s) for s in ("prod-a", "prod-b", "prod-c")))
    defined = stages(wave)
    assert list(defined) == ["Source", "Deploy", "Approve", "Promote"]
    actions = defined["Promote"].actions
    assert [a.name for a in actions] == ["Promote-prod-a", "Promote-prod-b", "Promote-prod-c"]
    params = [json.loads(a.configuration["UserParameters"]) for a in actions]
    assert [p["destination"]["stage"] for p in params] == ["prod-a", "prod-b", "prod-c"]
    assert defined["Approve"].actions[0].configuration == {
        "CustomData": "Promote to prod-a, prod-b, prod-c?"
    }
    assert [a.name for a in stages(BETA)["Promote"].actions] == ["Promote"]
    assert list(stages(replace(BETA, promotions=()))) == ["Source", "Deploy"]
