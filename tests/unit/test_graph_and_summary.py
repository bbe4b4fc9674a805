"""The chain diagram and the plan summary."""

from __future__ import annotations

from tests.conftest import CONFIGS
from xrdeploy.config.graph import mermaid
from xrdeploy.config.model import load_config
from xrdeploy.terraform.plan_summary import StackPlan, changes_from_plan_json, plan_summary_markdown


def test_graph_shows_every_stage_and_each_hop_kind():
    text = mermaid(load_config(None))
    assert text.startswith("flowchart LR\n")
    assert 'subgraph alpha["alpha · 111111111111 · us-west-2"]' in text
    assert 'beta_pipe["Source → Deploy → Approve → Promote"]' in text
    assert 'prod_pipe["Source → Deploy"]' in text
    assert 'alpha_pipe -- "cross-region copy" --> beta_src' in text
    assert 'beta_pipe -- "cross-account copy" --> prod_src' in text
    assert "_gates" not in text  # the default chain has no conditions to draw


def test_graph_draws_a_wave_and_the_gates_of_each_stage():
    # GIVEN the wave config: beta promotes to three production stages, gated
    text = mermaid(load_config(CONFIGS / "wave.yaml"))
    # THEN beta's pipeline promotes three ways, each hop labelled as one wave of three ...
    assert 'beta_pipe["Source → Deploy → Approve → Promote ×3"]' in text
    for prod in ("prod_us_east_1", "prod_eu_west_1", "prod_ap_southeast_2"):
        assert f'beta_pipe -- "cross-account copy · wave of 3" --> {prod}_src' in text
    assert 'alpha_pipe -- "cross-region copy" --> beta_src' in text
    # ... and the gates sit beside the pipeline they hold, in the order it meets them
    assert (
        'beta_gates{{"bake 30 min, promote when OK: beta-5xx, beta-latency · rollback on '
        'failure"}}' in text
    )
    assert (
        'prod_eu_west_1_gates{{"window 0 0 9-16 ? * MON-THU * (America/New_York) · bake 60 min, '
        'succeed when OK: prod-5xx · rollback on failure"}}' in text
    )
    assert "beta_gates -.- beta_pipe" in text


PLAN_JSON = {
    "resource_changes": [
        {
            "address": "aws_s3_bucket.a",
            "type": "aws_s3_bucket",
            "mode": "managed",
            "change": {"actions": ["create"]},
        },
        {
            "address": "aws_iam_role.r",
            "type": "aws_iam_role",
            "mode": "managed",
            "change": {"actions": ["update"]},
        },
        {
            "address": "aws_instance.i",
            "type": "aws_instance",
            "mode": "managed",
            "change": {"actions": ["delete", "create"]},
        },
        {
            "address": "aws_kms_key.k",
            "type": "aws_kms_key",
            "mode": "managed",
            "change": {"actions": ["no-op"]},
        },
        {
            "address": "data.aws_vpc.v",
            "type": "aws_vpc",
            "mode": "data",
            "change": {"actions": ["read"]},
        },
    ]
}


def test_summary_counts_like_terraform_and_calls_out_destroys_and_iam():
    plan = StackPlan("beta", changes_from_plan_json(PLAN_JSON), "plan")
    assert (plan.adds, plan.updates, plan.destroys) == (2, 1, 1)
    text = plan_summary_markdown([plan, StackPlan("prod", (), "plan")])
    assert "| beta | 2 | 1 | 1 |" in text and "| prod | 0 | 0 | 0 |" in text
    assert "- `beta`: `aws_instance.i`" in text.split("**IAM changes**")[0]
    assert "- `beta`: `aws_iam_role.r`" in text.split("**IAM changes**")[1]
    assert "No changes." not in text


def test_summary_says_no_changes():
    plan = StackPlan(
        "alpha",
        changes_from_plan_json(
            {
                "resource_changes": [
                    {
                        "address": "aws_kms_key.k",
                        "type": "aws_kms_key",
                        "change": {"actions": ["no-op"]},
                    }
                ]
            }
        ),
        "plan",
    )
    assert not plan.has_changes
    assert plan_summary_markdown([plan]).endswith("No changes.\n")


def test_graph_draws_a_git_source_for_the_first_stage_only():
    text = mermaid(load_config(CONFIGS / "github_source.yaml"))
    assert '    alpha_src[/"github: octo-org/shop (main)"/]' in text
    assert '    beta_src[("gitapp-beta-src-666666666666-us-west-2")]' in text
