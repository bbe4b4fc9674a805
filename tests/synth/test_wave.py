"""The wave config's stacks: beta promotes to three production stages at once, each delivery
admitted only from beta; gates become the Deploy stage's conditions; notifications reach an
encrypted topic only through EventBridge."""

from __future__ import annotations

import json

import pytest

from tests.synth.tfjson import data_sources, one, resources, statements

WAVE = ("prod-us-east-1", "prod-eu-west-1", "prod-ap-southeast-2")
BETA_FN_ROLE = "arn:aws:iam::444444444444:role/wave-beta-promote-fn"


def pipeline_stage(doc, name):
    pipeline = one(resources(doc, "aws_codepipeline"))
    return one(pipeline["stage"], name=name)


def test_beta_promotes_to_every_wave_stage_in_one_run_order(synthesized):
    # GIVEN beta's stack of the wave config
    doc = synthesized("wave").stack("beta").document()
    pipeline = one(resources(doc, "aws_codepipeline"))
    assert [s["name"] for s in pipeline["stage"]] == ["Source", "Deploy", "Approve", "Promote"]
    # THEN Promote holds one Lambda action per destination, all in the same run order ...
    actions = pipeline_stage(doc, "Promote")["action"]
    assert [a["name"] for a in actions] == [f"Promote-{stage}" for stage in WAVE]
    assert {a.get("run_order", 1) for a in actions} == {1}
    # ... each telling the copy function its own destination, reached through its own role
    for action, stage in zip(actions, WAVE, strict=True):
        assert action["provider"] == "Lambda" and action["input_artifacts"] == ["SourceArtifact"]
        destination = json.loads(action["configuration"]["UserParameters"])["destination"]
        region = stage.removeprefix("prod-")
        assert destination == {
            "stage": stage,
            "bucket": f"wave-{stage}-src-555555555555-{region}",
            "key": "sample_app.zip",
            "region": region,
            "account_id": "555555555555",
            "role_arn": f"arn:aws:iam::555555555555:role/wave-{stage}-promotion",
        }
    approve = pipeline_stage(doc, "Approve")["action"][0]
    assert approve["configuration"]["CustomData"] == f"Promote to {', '.join(WAVE)}?"


def test_beta_copy_function_may_assume_exactly_the_wave_roles(synthesized):
    doc = synthesized("wave").stack("beta").document()
    assume = one([s for s in statements(doc) if s["sid"] == "AssumeDownstreamPromotionRole"])
    assert assume["resources"] == [
        f"arn:aws:iam::555555555555:role/wave-{stage}-promotion" for stage in WAVE
    ]


@pytest.mark.parametrize("stage", WAVE)
def test_each_wave_destination_admits_only_beta(synthesized, stage):
    doc = synthesized("wave").stack(stage).document()
    trust = [
        s
        for body in data_sources(doc, "aws_iam_policy_document")
        for s in body["statement"]
        if s["sid"] == "Trust" and s["principals"][0]["type"] == "AWS"
    ]
    assert [t["principals"][0]["identifiers"] for t in trust] == [
        ["arn:aws:iam::444444444444:root"]
    ]
    assert [c["values"] for t in trust for c in t["condition"]] == [[BETA_FN_ROLE]]
    # Its own promotion role writes the one key by its identity policy.
    region = stage.removeprefix("prod-")
    grant = one([s for s in statements(doc) if s["sid"] == "DeliverBuild"])
    assert grant["resources"] == [
        f"arn:aws:s3:::wave-{stage}-src-555555555555-{region}/sample_app.zip"
    ]
    # A wave stage promotes nowhere: no Promote stage, nothing to assume.
    pipeline = one(resources(doc, "aws_codepipeline"))
    assert [s["name"] for s in pipeline["stage"]] == ["Source", "Deploy"]
    assert not [s for s in statements(doc) if s["sid"] == "AssumeDownstreamPromotionRole"]


def test_bake_and_alarm_gate_is_deploys_on_success_condition(synthesized):
    doc = synthesized("wave").stack("beta").document()
    deploy = pipeline_stage(doc, "Deploy")
    # GIVEN beta's gates: 30-minute bake on two alarms, rollback on failure
    condition = deploy["on_success"]["condition"]
    # THEN an alarm in ALARM during the bake rolls Deploy back, so Approve and Promote never run
    assert condition["result"] == "ROLLBACK"
    assert [(r["rule_type_id"]["provider"], r["configuration"]) for r in condition["rule"]] == [
        ("CloudWatchAlarm", {"AlarmName": "beta-5xx", "WaitTime": "30"}),
        ("CloudWatchAlarm", {"AlarmName": "beta-latency", "WaitTime": "30"}),
    ]
    assert all(
        r["rule_type_id"] == {**r["rule_type_id"], "category": "Rule", "owner": "AWS"}
        for r in condition["rule"]
    )
    assert deploy["on_failure"] == {"result": "ROLLBACK"}
    assert "before_entry" not in deploy
    # ... and the pipeline's role may read exactly those alarms
    alarms = one([s for s in statements(doc) if s["sid"] == "ReadGateAlarms"])
    assert alarms["actions"] == ["cloudwatch:DescribeAlarms"]
    assert alarms["resources"] == [
        "arn:aws:cloudwatch:us-east-1:444444444444:alarm:beta-5xx",
        "arn:aws:cloudwatch:us-east-1:444444444444:alarm:beta-latency",
    ]


def test_deployment_window_is_deploys_before_entry_condition(synthesized):
    doc = synthesized("wave").stack("prod-eu-west-1").document()
    entry = pipeline_stage(doc, "Deploy")["before_entry"]["condition"]
    assert entry["result"] == "FAIL"
    assert [(r["rule_type_id"]["provider"], r["configuration"]) for r in entry["rule"]] == [
        ("DeploymentWindow", {"Cron": "0 0 9-16 ? * MON-THU *", "TimeZone": "America/New_York"})
    ]
    assert pipeline_stage(doc, "Source").keys() == {"name", "action"}


def test_notifications_reach_an_encrypted_topic_only_through_its_rules(synthesized):
    doc = synthesized("wave").stack("beta").document()
    topic = one(resources(doc, "aws_sns_topic"))
    assert topic["name"] == "wave-beta-notices"
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")
    rules = {
        r["name"]: json.loads(r["event_pattern"])
        for r in resources(doc, "aws_cloudwatch_event_rule")
    }
    assert rules["wave-beta-notify-pipeline"]["detail"] == {
        "pipeline": ["wave-beta"],
        "state": ["FAILED", "SUPERSEDED"],
    }
    assert rules["wave-beta-notify-approval"]["detail"]["type"] == {"category": ["Approval"]}
    assert rules["wave-beta-notify-deployment"]["detail"] == {
        "application": ["wave-beta"],
        "deploymentGroup": ["wave-beta-fleet"],
        "state": ["FAILURE", "STOP"],
    }
    # Readable text, not the raw event.
    targets = [t for t in resources(doc, "aws_cloudwatch_event_target") if "input_transformer" in t]
    assert len(targets) == 3
    for target in targets:
        template = json.loads(target["input_transformer"]["input_template"])
        assert template.startswith("xrdeploy beta: ")
        assert target["arn"] == f"${{aws_sns_topic.{topic_id(doc)}.arn}}"
    # Only EventBridge, and only for these three rules, may publish.
    publish = one([s for s in statements(doc) if s["sid"] == "EventBridgeRulesPublish"])
    assert publish["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert publish["actions"] == ["sns:Publish"]
    condition = one(publish["condition"])
    assert condition["test"] == "ArnEquals" and condition["variable"] == "aws:SourceArn"
    assert len(condition["values"]) == 3
    assert all(v.startswith("${aws_cloudwatch_event_rule.") for v in condition["values"])
    # The stage key lets EventBridge encrypt for the topic.
    key_policy = json.loads(one(resources(doc, "aws_kms_key"))["policy"])
    sids = {s["Sid"]: s for s in key_policy["Statement"]}
    assert sids["EventBridgeForNotificationTopic"]["Principal"] == {
        "Service": ["events.amazonaws.com"]
    }


def topic_id(doc):
    return next(iter(doc["resource"]["aws_sns_topic"]))


def test_subscribers_come_from_the_chain_or_the_stage_override(synthesized):
    result = synthesized("wave")
    beta = {
        (s["protocol"], s["endpoint"], s.get("raw_message_delivery", False))
        for s in resources(result.stack("beta").document(), "aws_sns_topic_subscription")
    }
    assert beta == {
        ("email", "team@example.com", False),
        ("sqs", "arn:aws:sqs:us-east-1:444444444444:wave-notices", True),
    }
    prod = {
        (s["protocol"], s["endpoint"])
        for s in resources(result.stack("prod-us-east-1").document(), "aws_sns_topic_subscription")
    }
    assert prod == {
        ("email", "oncall@example.com"),
        ("https", "https://hooks.example.com/xrdeploy"),
        ("https", "https://global.sns-api.chatbot.amazonaws.com"),
    }


def test_stage_outputs_name_upstream_downstream_and_topic(synthesized):
    doc = synthesized("wave").stack("beta").document()
    outputs = one(list(doc["output"].values()))["value"]
    assert outputs["upstream_stage"] == "alpha"
    assert outputs["downstream_stages"] == list(WAVE)
    assert outputs["notification_topic_arn"].startswith("${aws_sns_topic.")
    definition = json.loads(outputs["pipeline_definition"])
    assert [a["name"] for a in definition[-1]["actions"]] == [f"Promote-{s}" for s in WAVE]
    assert definition[1]["on_success"]["result"] == "ROLLBACK"


def test_the_default_chain_has_no_conditions_topics_or_wave(synthesized):
    for stack in synthesized().stacks:
        doc = stack.document()
        pipeline = one(resources(doc, "aws_codepipeline"))
        assert all(s.keys() == {"name", "action"} for s in pipeline["stage"])
        assert not resources(doc, "aws_sns_topic")
        sids = {
            s["Sid"] for s in json.loads(one(resources(doc, "aws_kms_key"))["policy"])["Statement"]
        }
        assert "EventBridgeForNotificationTopic" not in sids
        assert not [s for s in statements(doc) if s["sid"] == "ReadGateAlarms"]
