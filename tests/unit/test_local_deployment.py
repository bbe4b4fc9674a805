"""LocalDeployment applies stacks one at a time in any order given, each alone, and keeps every
stage's outputs (Terraform replaced by a recorder: no local cloud, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xrdeploy.config.model import load_config
from xrdeploy.errors import ToolError
from xrdeploy.rehearsal.local_chain import LocalDeployment


class RecordingRunner:
    """ChainRunner.deploy as the deployment calls it: the stacks named, their outputs back."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def deploy(self, names: list[str] | None = None) -> dict[str, dict[str, Any]]:
        assert names is not None
        self.calls.append(names)
        return {name: {f"stage_{name}": {"stage": name}} for name in names}


class OfflineDeployment(LocalDeployment):
    recorder: RecordingRunner

    def runner(self) -> Any:
        return self.recorder

    def ensure_state_bucket(self) -> None:
        return None


def offline() -> OfflineDeployment:
    deployment = OfflineDeployment(load_config(None), "http://127.0.0.1:1", Path("unused"))
    deployment.recorder = RecordingRunner()
    return deployment


def test_each_stack_is_applied_alone_in_the_order_given() -> None:
    # GIVEN the default chain, WHEN its stacks are applied last stage first
    deployment = offline()
    outputs = deployment.deploy_one_at_a_time(["prod", "beta", "alpha"])
    # THEN each was its own apply, in that order, and every stage's outputs are kept
    assert deployment.recorder.calls == [["prod"], ["beta"], ["alpha"]]
    assert deployment.applied == ["prod", "beta", "alpha"]
    assert set(outputs) == {"alpha", "beta", "prod"}


def test_a_stage_left_out_is_named() -> None:
    deployment = offline()
    with pytest.raises(ToolError, match="gave no outputs for alpha"):
        deployment.deploy_one_at_a_time(["prod", "beta"])
