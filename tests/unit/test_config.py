"""Config validation: the valid configs load; every bad one is refused with one line per
problem that names the field, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CONFIGS
from xrdeploy.cli.main import run
from xrdeploy.config.model import load_config

BASE: dict[str, Any] = {
    "app": {"name": "shop", "source_object_key": "app.zip"},
    "stages": [
        {
            "name": "alpha",
            "account_id": "111111111111",
            "region": "us-west-2",
            "fleet": {"tag_value": "Alpha", "http_ingress_cidr": "10.0.0.0/8"},
        },
        {
            "name": "beta",
            "account_id": "222222222222",
            "region": "us-east-1",
            "fleet": {"tag_value": "Beta", "http_ingress_cidr": "10.0.0.0/8"},
        },
    ],
}


def mutated(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a dotted path replaced (`...=DELETE` removes the key)."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return data


DELETE = object()
S1 = "stages.0"
# (case id, file content as data or raw text, field the error must name)
BAD_CONFIGS: list[tuple[str, Any, str]] = [
    ("empty file", "", "empty"),
    ("not yaml", "app: [unclosed\n", "not valid YAML"),
    ("top level list", "- a\n- b\n", "top level"),
    ("unknown top key", mutated("colour", "blue"), "colour: unknown key"),
    ("missing app", mutated("app", DELETE), "app: required"),
    ("missing stages", mutated("stages", DELETE), "stages: required"),
    ("empty chain", mutated("stages", []), "stages: the chain is empty"),
    ("app name uppercase", mutated("app.name", "Shop"), "app.name"),
    ("app name too long", mutated("app.name", "a" * 41), "app.name"),
    ("app name underscore", mutated("app.name", "my_app"), "app.name"),
    ("app name ends with hyphen", mutated("app.name", "shop-"), "app.name"),
    ("app unknown key", mutated("app.owner", "me"), "app.owner: unknown key"),
    (
        "source key with space",
        mutated("app.source_object_key", "my app.zip"),
        "app.source_object_key",
    ),
    ("deploy role bad char", mutated("app.deploy_role_name", "role name"), "app.deploy_role_name"),
    ("duplicate stage", mutated("stages.1.name", "alpha"), "stages[1].name"),
    ("stage name uppercase", mutated(f"{S1}.name", "Alpha"), "stages[0].name"),
    ("stage name too short", mutated(f"{S1}.name", "a"), "stages[0].name"),
    ("stage name too long", mutated(f"{S1}.name", "a" * 21), "stages[0].name"),
    ("stage unknown key", mutated(f"{S1}.zone", "a"), "stages[0].zone: unknown key"),
    ("account id unquoted", mutated(f"{S1}.account_id", 111111111111), "stages[0].account_id"),
    ("account id 11 digits", mutated(f"{S1}.account_id", "11111111111"), "stages[0].account_id"),
    ("account id letters", mutated(f"{S1}.account_id", "11111111111a"), "stages[0].account_id"),
    ("account id missing", mutated(f"{S1}.account_id", DELETE), "stages[0].account_id"),
    ("region unknown", mutated(f"{S1}.region", "us-middle-1"), "stages[0].region"),
    ("region uppercase", mutated(f"{S1}.region", "US-EAST-1"), "stages[0].region"),
    ("fleet missing", mutated(f"{S1}.fleet", DELETE), "stages[0].fleet: required"),
    ("fleet as list", mutated(f"{S1}.fleet", ["t3.micro"]), "stages[0].fleet"),
    ("tag value missing", mutated(f"{S1}.fleet.tag_value", DELETE), "stages[0].fleet.tag_value"),
    (
        "cidr garbage",
        mutated(f"{S1}.fleet.http_ingress_cidr", "everyone"),
        "stages[0].fleet.http_ingress_cidr",
    ),
    (
        "cidr host bits",
        mutated(f"{S1}.fleet.http_ingress_cidr", "10.0.0.1/8"),
        "stages[0].fleet.http_ingress_cidr",
    ),
    (
        "cidr ipv6",
        mutated(f"{S1}.fleet.http_ingress_cidr", "::/0"),
        "stages[0].fleet.http_ingress_cidr",
    ),
    (
        "instance count zero",
        mutated(f"{S1}.fleet.instance_count", 0),
        "stages[0].fleet.instance_count",
    ),
    (
        "instance count too many",
        mutated(f"{S1}.fleet.instance_count", 51),
        "stages[0].fleet.instance_count",
    ),
    (
        "instance count string",
        mutated(f"{S1}.fleet.instance_count", "two"),
        "stages[0].fleet.instance_count",
    ),
    (
        "instance type bad",
        mutated(f"{S1}.fleet.instance_type", "large"),
        "stages[0].fleet.instance_type",
    ),
    (
        "ssh open to world",
        mutated(f"{S1}.fleet.ssh", {"cidr": "0.0.0.0/0", "key_pair": "k"}),
        "stages[0].fleet: ssh.cidr 0.0.0.0/0",
    ),
    (
        "ssh without key pair",
        mutated(f"{S1}.fleet.ssh", {"cidr": "10.0.0.0/8"}),
        "stages[0].fleet.ssh.key_pair",
    ),
    (
        "ssh unknown key",
        mutated(f"{S1}.fleet.ssh", {"cidr": "10.0.0.0/8", "key_pair": "k", "port": 22}),
        "stages[0].fleet.ssh.port",
    ),
    (
        "deployment config bad",
        mutated(f"{S1}.deployment_config", "All At Once"),
        "stages[0].deployment_config",
    ),
    (
        "approval on last stage",
        mutated("stages.1.gates", {"manual_approval": True}),
        "stages[1].gates.manual_approval",
    ),
    (
        "approval not a bool",
        mutated(f"{S1}.gates", {"manual_approval": "maybe"}),
        "stages[0].gates.manual_approval",
    ),
    ("gates unknown key", mutated(f"{S1}.gates", {"canary": True}), "stages[0].gates.canary"),
    (
        "alarms not a list",
        mutated(f"{S1}.gates", {"rollback_alarms": "high-5xx"}),
        "stages[0].gates.rollback_alarms",
    ),
    (
        "bake without alarms",
        mutated(f"{S1}.gates", {"bake_minutes": 30}),
        "stages[0].gates: bake_minutes needs promote_when_alarms_ok",
    ),
    (
        "bake of zero minutes",
        mutated(f"{S1}.gates", {"bake_minutes": 0, "promote_when_alarms_ok": ["a"]}),
        "stages[0].gates.bake_minutes",
    ),
    (
        "bake not a number",
        mutated(f"{S1}.gates", {"bake_minutes": "long", "promote_when_alarms_ok": ["a"]}),
        "stages[0].gates.bake_minutes",
    ),
    (
        "six gate alarms",
        mutated(f"{S1}.gates", {"promote_when_alarms_ok": list("abcdef")}),
        "stages[0].gates.promote_when_alarms_ok",
    ),
    (
        "gate alarm twice",
        mutated(f"{S1}.gates", {"promote_when_alarms_ok": ["a", "a"]}),
        "stages[0].gates: promote_when_alarms_ok names an alarm twice",
    ),
    (
        "window cron of five fields",
        mutated(f"{S1}.gates", {"deployment_window": {"cron": "0 9-16 * * MON-FRI"}}),
        "stages[0].gates.deployment_window.cron",
    ),
    (
        "window unknown time zone",
        mutated(
            f"{S1}.gates",
            {"deployment_window": {"cron": "0 0 9-16 ? * MON-FRI", "time_zone": "Mars/Olympus"}},
        ),
        "stages[0].gates.deployment_window.time_zone",
    ),
    (
        "window without cron",
        mutated(f"{S1}.gates", {"deployment_window": {"time_zone": "UTC"}}),
        "stages[0].gates.deployment_window.cron: required",
    ),
    (
        "rollback not a bool",
        mutated(f"{S1}.gates", {"rollback_on_failure": "yes"}),
        "stages[0].gates.rollback_on_failure",
    ),
    (
        "subscriber bad email",
        {**BASE, "notifications": {"subscribers": [{"protocol": "email", "endpoint": "ops"}]}},
        "notifications.subscribers[0]: endpoint 'ops' is not an email address",
    ),
    (
        "subscriber unknown protocol",
        {**BASE, "notifications": {"subscribers": [{"protocol": "sms", "endpoint": "+1"}]}},
        "notifications.subscribers[0].protocol",
    ),
    (
        "subscriber http not https",
        {
            **BASE,
            "notifications": {
                "subscribers": [{"protocol": "https", "endpoint": "http://hooks.example.com"}]
            },
        },
        "notifications.subscribers[0]: endpoint",
    ),
    (
        "stage subscriber bad sqs arn",
        mutated(
            f"{S1}.notifications",
            {"subscribers": [{"protocol": "sqs", "endpoint": "my-queue"}]},
        ),
        "stages[0].notifications.subscribers[0]: endpoint 'my-queue' is not an SQS queue ARN",
    ),
    (
        "subscriber chatbot not an arn",
        mutated(
            f"{S1}.notifications",
            {"subscribers": [{"protocol": "chatbot", "endpoint": "slack"}]},
        ),
        "stages[0].notifications.subscribers[0]: endpoint 'slack' is not an AWS Chatbot",
    ),
    (
        "notifications unknown key",
        {**BASE, "notifications": {"topic": "x"}},
        "notifications.topic: unknown key",
    ),
    ("after unknown stage", mutated("stages.1.after", "gamma"), "stages[1].after: unknown stage"),
    ("after itself", mutated("stages.1.after", "beta"), 'stages[1].after: stage "beta"'),
    ("after not a name", mutated("stages.1.after", "Alpha"), "stages[1].after"),
    ("layout unknown", mutated("layout", "sideways"), "layout"),
    ("backend type unknown", mutated("backend", {"type": "consul"}), "backend.type"),
    (
        "s3 backend no bucket",
        mutated("backend", {"type": "s3", "region": "us-east-1"}),
        "backend: the s3 backend needs bucket",
    ),
    ("local backend with bucket", mutated("backend", {"bucket": "state-bucket"}), "backend"),
    (
        "bucket name too long",
        {**mutated(f"{S1}.name", "alpha-long"), "app": {"name": "a" * 30}},
        "68-character bucket name",
    ),
    ("stages as mapping", mutated("stages", {"alpha": {}}), "stages"),
]


def write_case(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "chain.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def assert_refused(capsys: pytest.CaptureFixture[str], code: int, must_name: str) -> list[str]:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert lines, "no error printed"
    assert all(line.startswith("error: ") for line in lines), lines
    assert "Traceback" not in captured.err + captured.out
    assert any(must_name in line for line in lines), lines
    return lines


def test_shipped_configs_are_valid():
    chains = [load_config(None)] + [load_config(p) for p in sorted(CONFIGS.glob("*.yaml"))]
    # default, codecommit_source, five_stage, github_source, local_wave, one_stage,
    # single_account, wave, windows
    assert [len(c.stages) for c in chains] == [3, 2, 5, 3, 3, 1, 2, 5, 2]


def test_base_case_is_valid(tmp_path):
    assert load_config(write_case(tmp_path, BASE)).stages[1].name == "beta"


@pytest.mark.parametrize(
    ("content", "must_name"), [pytest.param(c, n, id=i) for i, c, n in BAD_CONFIGS]
)
def test_bad_config_is_refused_with_one_line_naming_the_field(tmp_path, capsys, content, must_name):
    # GIVEN a config with one mistake
    path = write_case(tmp_path, content)
    outdir = tmp_path / "out"
    # WHEN it is synthesized
    code = run(["synth", "--config", str(path), "--outdir", str(outdir)])
    # THEN it is refused with exactly one line that names the field, and nothing is written
    lines = assert_refused(capsys, code, must_name)
    assert len(lines) == 1, lines
    assert not outdir.exists()


def test_several_mistakes_give_one_line_each(tmp_path, capsys):
    data = mutated(f"{S1}.region", "nowhere-1")
    data["stages"][1]["account_id"] = "12"
    data["app"]["name"] = "BAD"
    code = run(["validate", "--config", str(write_case(tmp_path, data))])
    lines = assert_refused(capsys, code, "app.name")
    assert len(lines) == 3
    assert any("stages[0].region" in line for line in lines)
    assert any("stages[1].account_id" in line for line in lines)


BAD_FILES = [
    ("missing file", lambda tmp: tmp / "nope.yaml", "no such file"),
    ("directory", lambda tmp: tmp, "is a directory"),
    (
        "not utf-8",
        lambda tmp: _write_bytes(tmp / "latin.yaml", b"app: {name: caf\xe9}\n"),
        "not UTF-8",
    ),
]


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("make", "must_name"), [pytest.param(m, n, id=i) for i, m, n in BAD_FILES])
def test_unreadable_config_file_is_refused(tmp_path, capsys, make, must_name):
    code = run(["validate", "--config", str(make(tmp_path))])
    assert len(assert_refused(capsys, code, must_name)) == 1


BAD_INVOCATIONS = [
    ("unknown command", ["deploy-everything"], "deploy-everything"),
    ("unknown option", ["synth", "--colour"], "--colour"),
    ("unknown target", ["synth", "--target", "azure"], "--target"),
    ("target url not http", ["synth", "--target", "localstack=ftp://host"], "--target"),
    ("option without value", ["validate", "--config"], "--config"),
]


@pytest.mark.parametrize(
    ("argv", "must_name"), [pytest.param(a, n, id=i) for i, a, n in BAD_INVOCATIONS]
)
def test_bad_invocation_is_refused_with_one_line(tmp_path, capsys, argv, must_name):
    code = run(
        [*argv, "--outdir", str(tmp_path / "out")]
        if argv[0] == "synth" and "--colour" not in argv
        else argv
    )
    assert len(assert_refused(capsys, code, must_name)) == 1
    assert not (tmp_path / "out").exists()
