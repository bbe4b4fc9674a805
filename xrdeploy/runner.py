"""Terraform across the chain's stacks: deploy in chain order, destroy in reverse, plan in
parallel. A failing stack stops the run and the error names it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from xrdeploy.errors import ToolError
from xrdeploy.plan_summary import StackPlan, changes_from_plan_json
from xrdeploy.synth import Synthesis, SynthesizedStack
from xrdeploy.terraform import Terraform

# Receives one line of progress for the operator ("[2/3] beta: terraform apply").
ProgressReporter = Callable[[str], None]
PLAN_FILE = "xrdeploy.tfplan"


def _quiet(_: str) -> None:
    return None


@dataclass
class ChainRunner:
    synthesis: Synthesis
    progress: ProgressReporter = _quiet

    def terraform(self, stack: SynthesizedStack) -> Terraform:
        return Terraform(stack.directory)

    def _named(self, names: list[str] | None) -> list[SynthesizedStack]:
        stacks = list(self.synthesis.stacks)
        if not names:
            return stacks
        unknown = sorted(set(names) - {s.name for s in stacks})
        if unknown:
            raise ToolError(
                f"no stack named {', '.join(unknown)}; stacks are "
                + ", ".join(s.name for s in stacks)
            )
        return [s for s in stacks if s.name in names]

    def deploy(
        self, names: list[str] | None = None, *, concurrently: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Apply stacks in chain order, so a change rolls out as a build does and a bad one
        stops at the first stage; returns each stack's outputs. No stack needs another to exist
        first, so `concurrently` applies them all at once."""
        stacks = self._named(names)

        def apply(numbered: tuple[int, SynthesizedStack]) -> dict[str, Any]:
            index, stack = numbered
            step = f"[{index}/{len(stacks)}] {stack.name}"
            terraform = self.terraform(stack)
            self.progress(f"{step}: terraform init")
            terraform.init()
            self.progress(f"{step}: terraform apply")
            terraform.apply(on_line=self._resource_progress(stack.name, "Creation complete"))
            self.progress(f"{step}: applied")
            return terraform.outputs()

        numbered = list(enumerate(stacks, start=1))
        if concurrently:
            with ThreadPoolExecutor(max_workers=len(stacks) or 1) as pool:
                results = list(pool.map(apply, numbered))
        else:
            results = [apply(item) for item in numbered]
        return {stack.name: result for stack, result in zip(stacks, results, strict=True)}

    def destroy(self, names: list[str] | None = None) -> None:
        """Destroy in reverse chain order, so no stage loses its downstream mid-promotion."""
        stacks = list(reversed(self._named(names)))
        for index, stack in enumerate(stacks, start=1):
            terraform = self.terraform(stack)
            self.progress(f"[{index}/{len(stacks)}] {stack.name}: terraform destroy")
            terraform.init()
            terraform.destroy(on_line=self._resource_progress(stack.name, "Destruction complete"))
            self.progress(f"[{index}/{len(stacks)}] {stack.name}: destroyed")

    def _resource_progress(self, stack: str, marker: str) -> Callable[[str], None]:
        """Counts Terraform's per-resource completion lines into one progress line each."""
        done = 0

        def on_line(line: str) -> None:
            nonlocal done
            if marker in line:
                done += 1
                self.progress(f"    {stack}: {done} done, last {line.split(':')[0]}")

        return on_line

    def plan(self, names: list[str] | None = None, parallelism: int = 2) -> list[StackPlan]:
        """Plan stacks concurrently (each has its own state, and no stack reads another's)."""
        stacks = self._named(names)

        def plan_one(stack: SynthesizedStack) -> StackPlan:
            terraform = self.terraform(stack)
            terraform.init()
            terraform.plan(PLAN_FILE)
            shown = terraform.show_json(PLAN_FILE)
            self.progress(f"{stack.name}: planned")
            return StackPlan(
                stack=stack.name,
                changes=changes_from_plan_json(shown),
                plan_path=str(stack.directory / PLAN_FILE),
            )

        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            return list(pool.map(plan_one, stacks))
