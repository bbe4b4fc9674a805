"""Terraform across the chain's stacks: deploy in chain order, destroy in reverse, plan in
parallel. A failing stack stops the run and the error names it."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from xrdeploy.errors import ToolError
from xrdeploy.synth import Synthesis, SynthesizedStack
from xrdeploy.terraform import Terraform

Progress = Callable[[str], None]
PLAN_FILE = "xrdeploy.tfplan"
# IAM changes deserve a reviewer's eye even when they only add.
IAM_RESOURCE_PREFIX = "aws_iam_"


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ResourceChange:
    address: str
    resource_type: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class StackPlan:
    stack: str
    changes: tuple[ResourceChange, ...]
    plan_path: str

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if action in c.actions)

    @property
    def adds(self) -> int:
        return self.count("create")

    @property
    def updates(self) -> int:
        return self.count("update")

    @property
    def destroys(self) -> int:
        return self.count("delete")

    @property
    def has_changes(self) -> bool:
        return any(c.actions != ("no-op",) and c.actions != ("read",) for c in self.changes)

    @property
    def destroyed(self) -> list[str]:
        return [c.address for c in self.changes if "delete" in c.actions]

    @property
    def iam_changes(self) -> list[str]:
        return [
            c.address
            for c in self.changes
            if c.resource_type.startswith(IAM_RESOURCE_PREFIX)
            and c.actions not in (("no-op",), ("read",))
        ]


def changes_from_plan_json(plan: dict[str, Any]) -> tuple[ResourceChange, ...]:
    return tuple(
        ResourceChange(
            address=rc["address"], resource_type=rc["type"], actions=tuple(rc["change"]["actions"])
        )
        for rc in plan.get("resource_changes", [])
        if rc.get("mode", "managed") == "managed"
    )


@dataclass
class ChainRunner:
    synthesis: Synthesis
    extra_env: dict[str, str] = field(default_factory=dict)
    progress: Progress = _quiet

    def terraform(self, stack: SynthesizedStack) -> Terraform:
        return Terraform(stack.directory, extra_env=self.extra_env)

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
        """Apply stacks in chain order (IAM refuses a trust policy naming a role that does not
        exist yet, and each promotion role trusts the upstream stage's function role); returns
        each stack's outputs. `concurrently` is for targets that do not check principals, such
        as the emulator, where it saves minutes."""
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

    def outputs(self, stack_name: str) -> dict[str, Any]:
        return self.terraform(self.synthesis.stack(stack_name)).outputs()

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


def plan_summary_markdown(plans: list[StackPlan], title: str = "xrdeploy plan") -> str:
    """A Markdown summary a PR comment can carry: counts per stage, destroys and IAM called out."""
    lines = [f"## {title}", "", "| stage | add | change | destroy |", "|---|---:|---:|---:|"]
    for plan in plans:
        lines.append(f"| {plan.stack} | {plan.adds} | {plan.updates} | {plan.destroys} |")
    destroys = [(p.stack, a) for p in plans for a in p.destroyed]
    iam = [(p.stack, a) for p in plans for a in p.iam_changes]
    if destroys:
        lines += ["", "**Destroys** (data in these resources may be lost):", ""]
        lines += [f"- `{stack}`: `{address}`" for stack, address in destroys]
    if iam:
        lines += ["", "**IAM changes** (review who gains access):", ""]
        lines += [f"- `{stack}`: `{address}`" for stack, address in iam]
    if not any(p.has_changes for p in plans):
        lines += ["", "No changes."]
    return "\n".join(lines) + "\n"


def plan_summary_json(plans: list[StackPlan]) -> str:
    return json.dumps(
        [
            {
                "stage": p.stack,
                "add": p.adds,
                "change": p.updates,
                "destroy": p.destroys,
                "destroyed": p.destroyed,
                "iam_changes": p.iam_changes,
            }
            for p in plans
        ],
        indent=2,
    )
