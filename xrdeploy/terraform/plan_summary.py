"""What `terraform plan` would do to each stack, and the Markdown summary a PR comment carries:
counts per stage, with destroys and IAM changes called out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# IAM changes deserve a reviewer's eye even when they only add.
IAM_RESOURCE_PREFIX = "aws_iam_"


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
    """The managed resources' changes in `terraform show -json` of a plan file."""
    return tuple(
        ResourceChange(
            address=rc["address"], resource_type=rc["type"], actions=tuple(rc["change"]["actions"])
        )
        for rc in plan.get("resource_changes", [])
        if rc.get("mode", "managed") == "managed"
    )


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
