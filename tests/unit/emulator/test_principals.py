"""Which principals of a trust policy must exist (``xrdeploy_localstack.principals``), without
LocalStack: the lookup is a function given to the check."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

PLUGIN_SRC = Path(__file__).resolve().parents[3] / "emulator" / "plugins" / "src"
# The plugin package is installed into LocalStack's venv only; its pure modules run anywhere.
sys.path.insert(0, str(PLUGIN_SRC))

from xrdeploy_localstack.principals import missing_principal  # noqa: E402

UPSTREAM_ROLE = "arn:aws:iam::111111111111:role/xrdeploy-demo-alpha-copy-fn"
EXISTING = {"arn:aws:iam::111111111111:role/exists", "arn:aws:iam::111111111111:user/ops"}


def _trust(principal: Any, **statement: Any) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal, **statement}
            ],
        }
    )


def _missing(document: str) -> str | None:
    return missing_principal(document, EXISTING.__contains__)


@pytest.mark.parametrize(
    ("principal", "missing"),
    [
        ({"AWS": UPSTREAM_ROLE}, UPSTREAM_ROLE),
        ({"AWS": ["arn:aws:iam::111111111111:role/exists", UPSTREAM_ROLE]}, UPSTREAM_ROLE),
        ({"AWS": "arn:aws:iam::111111111111:user/gone"}, "arn:aws:iam::111111111111:user/gone"),
        # Another path is another role.
        (
            {"AWS": "arn:aws:iam::111111111111:role/team/exists"},
            "arn:aws:iam::111111111111:role/team/exists",
        ),
    ],
)
def test_a_role_or_user_that_does_not_exist_is_named(principal: Any, missing: str) -> None:
    assert _missing(_trust(principal)) == missing


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": "111111111111"},
        {"AWS": "arn:aws:iam::222222222222:root"},
        {"Service": "lambda.amazonaws.com"},
        {"Federated": "cognito-identity.amazonaws.com"},
        {"AWS": "arn:aws:sts::111111111111:assumed-role/gone/session"},
        {"AWS": ["arn:aws:iam::111111111111:role/exists", "arn:aws:iam::111111111111:user/ops"]},
    ],
)
def test_principals_iam_does_not_look_up_or_that_exist_pass(principal: Any) -> None:
    assert _missing(_trust(principal)) is None


def test_a_condition_may_name_a_role_yet_to_be_created() -> None:
    pinned = _trust(
        {"AWS": "arn:aws:iam::111111111111:root"},
        Condition={"ArnEquals": {"aws:PrincipalArn": UPSTREAM_ROLE}},
    )
    assert _missing(pinned) is None


def test_a_url_encoded_document_is_read_and_one_that_is_not_json_is_left_alone() -> None:
    assert _missing(quote(_trust({"AWS": UPSTREAM_ROLE}))) == UPSTREAM_ROLE
    assert _missing("{not json") is None
