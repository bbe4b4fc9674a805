"""Terraform across the chain's stacks: deploy in chain order (or all at once), destroy in
reverse, plan in parallel. A failing stack stops the run and the error names it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from xrdeploy.errors import ToolError
from xrdeploy.terraform.command import Terraform
from xrdeploy.terraform.plan_summary import StackPlan, changes_from_plan_json
from xrdeploy.terraform.synth import Synthesis, SynthesizedStack

# Receives one line of progress for the operator ("[2/3] beta: terraform apply").
ProgressReporter = Callable[[str], None]
PLAN_FILE = "xrdeploy.tfplan"
APPLY_COMPLETE = re.compile(r"Apply complete! Resources: (?P<changes>[^.]+)\.")


@dataclass(frozen=True)
class StackApplied:
    """What one stack's apply did: Terraform's counts ("39 added, 0 changed, 0 destroyed") or
    the error that stopped it."""

    stack: str
    seconds: float
    changes: str = ""
    error: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        if self.error:
            return f"{self.stack}: failed after {self.seconds:.0f} s: {self.error}"
        return f"{self.stack}: applied in {self.seconds:.0f} s ({self.changes or 'no counts'})"


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
        """Apply stacks (see :meth:`apply`); returns each stack's outputs."""
        return {a.stack: a.outputs for a in self.apply(names, all_at_once=concurrently)}

    def apply(
        self, names: list[str] | None = None, *, all_at_once: bool = False
    ) -> list[StackApplied]:
        """Apply stacks in chain order, so a change rolls out as a build does and a bad one stops
        at the first stage (the ToolError names it). `all_at_once` starts every stack's apply
        together (no stack needs another to exist first), reports one line per stack as it ends,
        and after all have ended raises one ToolError with a line per failed stack."""
        stacks = self._named(names)
        if not all_at_once:
            return [
                self._apply_one(stack, f"[{index}/{len(stacks)}] {stack.name}")
                for index, stack in enumerate(stacks, start=1)
            ]
        listed = ", ".join(s.name for s in stacks)
        self.progress(f"applying {len(stacks)} stack(s) at once: {listed}")
        with ThreadPoolExecutor(max_workers=len(stacks) or 1) as pool:
            results = list(pool.map(self._apply_settled, stacks))
        failed = [r for r in results if r.error]
        if failed:
            raise ToolError("\n".join(r.error for r in failed))
        return results

    def _apply_one(self, stack: SynthesizedStack, step: str) -> StackApplied:
        started = time.monotonic()
        terraform = self.terraform(stack)
        self.progress(f"{step}: terraform init")
        terraform.init()
        self.progress(f"{step}: terraform apply")
        output = terraform.apply(on_line=self._resource_progress(stack.name, "Creation complete"))
        self.progress(f"{step}: applied")
        return StackApplied(
            stack.name, time.monotonic() - started, _changes(output), outputs=terraform.outputs()
        )

    def _apply_settled(self, stack: SynthesizedStack) -> StackApplied:
        """One stack of an all-at-once apply: its outcome, failed or not, in one progress line."""
        started = time.monotonic()
        try:
            terraform = self.terraform(stack)
            terraform.init()
            changes = _changes(terraform.apply())
            outputs = terraform.outputs()
            applied = StackApplied(stack.name, time.monotonic() - started, changes, outputs=outputs)
        except ToolError as e:
            applied = StackApplied(stack.name, time.monotonic() - started, error=str(e))
        self.progress(applied.line())
        return applied

    def destroy(self, names: list[str] | None = None, *, all_at_once: bool = False) -> None:
        """Destroy in reverse chain order, so no stage loses its downstream mid-promotion; or
        `all_at_once`, for a chain with nothing in flight (one progress line per stack)."""
        stacks = list(reversed(self._named(names)))
        if all_at_once:
            with ThreadPoolExecutor(max_workers=len(stacks) or 1) as pool:
                list(pool.map(self._destroy_one, stacks))
            return
        for index, stack in enumerate(stacks, start=1):
            terraform = self.terraform(stack)
            self.progress(f"[{index}/{len(stacks)}] {stack.name}: terraform destroy")
            terraform.init()
            terraform.destroy(on_line=self._resource_progress(stack.name, "Destruction complete"))
            self.progress(f"[{index}/{len(stacks)}] {stack.name}: destroyed")

    def _destroy_one(self, stack: SynthesizedStack) -> None:
        started = time.monotonic()
        terraform = self.terraform(stack)
        terraform.init()
        terraform.destroy()
        self.progress(f"{stack.name}: destroyed in {time.monotonic() - started:.0f} s")

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


def _changes(apply_output: str | None) -> str:
    """Terraform's closing counts of an apply, e.g. "39 added, 0 changed, 0 destroyed"."""
    found = APPLY_COMPLETE.search(apply_output or "")
    return found["changes"] if found else ""
