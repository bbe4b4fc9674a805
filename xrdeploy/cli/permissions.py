"""`permissions`: per role, what it used, what it was denied and which grants nothing used, from
the running local cloud's permission ledger (IAM enforced; after a demo or a test run)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from xrdeploy.cli.support import guarded, out
from xrdeploy.errors import ToolError, UserError


def permissions(
    role: Annotated[
        str | None,
        typer.Option("--role", "-r", help="Only this role (or user): its name or ARN."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Per role of the local cloud: requests allowed (with the deciding statement), denied (with
    AWS's reason) and unchecked, and each granted statement no request used."""

    def body() -> None:
        from xrdeploy.console.permissions import permission_report, render_json, render_text
        from xrdeploy.rehearsal.local_cloud import permission_ledger, running_endpoint

        endpoint = running_endpoint()
        if endpoint is None:
            raise ToolError("no local cloud is running; start one with: python main.py local up")
        ledger = permission_ledger(endpoint)
        reports = permission_report(ledger, role)
        if role is not None and not reports:
            raise UserError(f"--role: no role or user named {role} in the permission ledger")
        if as_json:
            text = json.dumps(render_json(reports, ledger), indent=2)
            out.print(text, markup=False, emoji=False)
            return
        for line in render_text(reports):
            # ARNs are full of colons: ":cloud:" and the like must stay text, not emoji.
            out.print(line, markup=False, emoji=False)

    guarded(body)
