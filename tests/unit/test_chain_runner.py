"""Chain order: deploy goes first stage to last and stops at a failing stage; destroy reverses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xrdeploy.errors import ToolError
from xrdeploy.terraform.runner import ChainRunner
from xrdeploy.terraform.synth import Synthesis, SynthesizedStack

STAGES = ("alpha", "beta", "prod")


class RecordingTerraform:
    def __init__(self, stack: str, calls: list[tuple[str, str]], failing: str | None) -> None:
        self.stack, self.calls, self.failing = stack, calls, failing

    def init(self) -> None:
        self.calls.append(("init", self.stack))

    def apply(self, on_line: Any = None) -> None:
        self.calls.append(("apply", self.stack))
        if self.stack == self.failing:
            raise ToolError(f"terraform apply in {self.stack}: AccessDenied: no")

    def destroy(self, on_line: Any = None) -> None:
        self.calls.append(("destroy", self.stack))

    def outputs(self) -> dict[str, Any]:
        return {"stage": self.stack}


class RecordingRunner(ChainRunner):
    def __init__(self, failing: str | None = None) -> None:
        stacks = tuple(
            SynthesizedStack(name, (name,), Path(name), (f"aws_{name}",)) for name in STAGES
        )
        super().__init__(Synthesis(Path("out"), stacks))
        self.calls: list[tuple[str, str]] = []
        self.failing = failing

    def terraform(self, stack: SynthesizedStack) -> Any:
        return RecordingTerraform(stack.name, self.calls, self.failing)


def test_deploy_applies_in_chain_order_and_returns_outputs():
    runner = RecordingRunner()
    outputs = runner.deploy()
    assert [c for c in runner.calls if c[0] == "apply"] == [("apply", s) for s in STAGES]
    assert outputs == {s: {"stage": s} for s in STAGES}


def test_a_failing_stage_stops_the_run_and_is_named():
    runner = RecordingRunner(failing="beta")
    with pytest.raises(ToolError, match="terraform apply in beta: AccessDenied"):
        runner.deploy()
    assert ("apply", "prod") not in runner.calls


def test_destroy_goes_in_reverse_chain_order():
    runner = RecordingRunner()
    runner.destroy()
    assert [c for c in runner.calls if c[0] == "destroy"] == [
        ("destroy", s) for s in reversed(STAGES)
    ]


def test_unknown_stack_names_are_refused():
    with pytest.raises(ToolError, match="no stack named gamma; stacks are alpha, beta, prod"):
        RecordingRunner().deploy(["gamma"])
