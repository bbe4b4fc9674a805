"""Chain order: deploy goes first stage to last and stops at a failing stage; destroy reverses;
all at once: every stack applies, each reports one line, and every failure is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xrdeploy.errors import ToolError
from xrdeploy.terraform.runner import ChainRunner
from xrdeploy.terraform.synth import Synthesis, SynthesizedStack

STAGES = ("alpha", "beta", "prod")


class RecordingTerraform:
    def __init__(self, stack: str, calls: list[tuple[str, str]], failing: tuple[str, ...]) -> None:
        self.stack, self.calls, self.failing = stack, calls, failing

    def init(self) -> None:
        self.calls.append(("init", self.stack))

    def apply(self, on_line: Any = None) -> str:
        self.calls.append(("apply", self.stack))
        if self.stack in self.failing:
            raise ToolError(f"terraform apply in {self.stack}: AccessDenied: no")
        return f"{self.stack}...\n\nApply complete! Resources: 3 added, 0 changed, 0 destroyed.\n"

    def destroy(self, on_line: Any = None) -> None:
        self.calls.append(("destroy", self.stack))

    def outputs(self) -> dict[str, Any]:
        return {"stage": self.stack}


class RecordingRunner(ChainRunner):
    def __init__(self, *failing: str) -> None:
        stacks = tuple(
            SynthesizedStack(name, (name,), Path(name), (f"aws_{name}",)) for name in STAGES
        )
        self.lines: list[str] = []
        super().__init__(Synthesis(Path("out"), stacks), progress=self.lines.append)
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
    runner = RecordingRunner("beta")
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


def test_all_at_once_applies_every_stack_and_says_what_each_did():
    runner = RecordingRunner()
    applied = runner.apply(all_at_once=True)
    assert sorted(c for c in runner.calls if c[0] == "apply") == [("apply", s) for s in STAGES]
    assert [(a.stack, a.changes, a.outputs) for a in applied] == [
        (s, "3 added, 0 changed, 0 destroyed", {"stage": s}) for s in STAGES
    ]
    # one progress line per stack, no per-resource lines
    per_stack = [line for line in runner.lines if not line.startswith("applying")]
    assert sorted(line.split(":")[0] for line in per_stack) == sorted(STAGES)
    assert all("applied in" in line and "(3 added" in line for line in per_stack)


def test_all_at_once_lets_every_stack_finish_then_names_each_failure():
    runner = RecordingRunner("alpha", "prod")
    with pytest.raises(ToolError) as failed:
        runner.apply(all_at_once=True)
    assert str(failed.value).splitlines() == [
        "terraform apply in alpha: AccessDenied: no",
        "terraform apply in prod: AccessDenied: no",
    ]
    assert ("apply", "beta") in runner.calls
    assert any(line.startswith("beta: applied in") for line in runner.lines)
    assert any(line.startswith("prod: failed after") for line in runner.lines)
