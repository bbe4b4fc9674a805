"""`local up|down|status|instances` (the local cloud, through its own CLI) and `demo`."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from xrdeploy.cli.support import ConfigOption, err, guarded, out, resolve_config
from xrdeploy.console.pipelines import PendingApproval
from xrdeploy.errors import UserError
from xrdeploy.paths import LOCAL_HOME, SAMPLE_APP

local_app = typer.Typer(
    help="The local cloud (LocalStack with xrdeploy's plugins, no Docker) on this host.",
    no_args_is_help=True,
)


@local_app.command("up")
def local_up() -> None:
    """Start the local cloud and leave it running; prints the endpoint and the exports for
    boto3, the AWS CLI and Terraform."""
    from xrdeploy.rehearsal.local_cloud import passthrough

    raise typer.Exit(passthrough(["up"]))


@local_app.command("down")
def local_down() -> None:
    """Stop the local cloud started by `local up`."""
    from xrdeploy.rehearsal.local_cloud import passthrough

    raise typer.Exit(passthrough(["down"]))


@local_app.command("status")
def local_status() -> None:
    """Whether the local cloud runs, and where (exit 3 when it does not)."""
    from xrdeploy.rehearsal.local_cloud import passthrough

    raise typer.Exit(passthrough(["status"]))


@local_app.command("instances")
def local_instances() -> None:
    """The local EC2 instances and the loopback URL of the page each serves."""
    from xrdeploy.rehearsal.local_cloud import passthrough

    raise typer.Exit(passthrough(["instances"]))


class ConsoleReporter:
    def __init__(self, auto_approve: bool) -> None:
        self.auto_approve = auto_approve

    def progress(self, message: str) -> None:
        err.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")

    def line(self, message: str) -> None:
        out.print(message, markup=False)

    def phase(self, name: str, seconds: float) -> None:
        self.progress(f"phase {name}: {seconds:.1f} s")

    def approve(self, stage: str, pending: PendingApproval) -> tuple[bool, str]:
        if self.auto_approve:
            return True, "approved by demo --approve"
        answer = typer.confirm(f"{stage}: promote this build past {pending.action_name}?")
        return answer, "approved at the terminal" if answer else "rejected at the terminal"


def demo(
    config: ConfigOption = None,
    build: Annotated[
        Path | None, typer.Option(help="Build to promote (default: sample_app/ packaged).")
    ] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Answer every manual approval with yes.")
    ] = False,
    keep: Annotated[
        bool, typer.Option(help="Leave the stacks and the local cloud running afterwards.")
    ] = False,
) -> None:
    """Run the whole chain in the local cloud: create every stage at once, upload one build,
    watch it flow through every pipeline by itself, show each stage's page, then discard the
    local cloud it started (or destroy what it created in one already running)."""

    def body() -> int:
        from xrdeploy.packaging import build_zip
        from xrdeploy.rehearsal.demo import DemoRequest, run_demo

        chain = resolve_config(config)
        if (
            not approve
            and not sys.stdin.isatty()
            and any(s.gates.manual_approval for s in chain.stages)
        ):
            raise UserError(
                "demo: the chain has manual approvals and there is no terminal to ask; "
                "add --approve"
            )
        if chain.app.source.is_git:
            raise UserError(
                "demo: it uploads a build into the first stage's source bucket, and a "
                f"{chain.app.source.type}-sourced first stage (app.source) has none; start it "
                f"with a push to {chain.app.source.branch}"
            )
        with tempfile.TemporaryDirectory(prefix="xrdeploy-demo-") as scratch:
            artifact = build or build_zip(SAMPLE_APP, Path(scratch) / "sample_app.zip")
            request = DemoRequest(chain, artifact, LOCAL_HOME / "demo", keep=keep)
            return run_demo(request, ConsoleReporter(auto_approve=approve))

    raise typer.Exit(guarded(body))
