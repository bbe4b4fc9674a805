"""`status` and `approve`: each stage's pipeline as the console shows it, and the answer to a
pending manual approval, through the CodePipeline API (AWS or the local cloud alike)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from xrdeploy.cli_support import (
    ConfigOption,
    TargetOption,
    guarded,
    out,
    resolve_config,
    resolve_target,
)


def _console(config: Any, target: str | None) -> tuple[Any, Any]:
    from xrdeploy.aws_clients import AwsClients
    from xrdeploy.pipelines import PipelineConsole, stage_pipelines

    chain = resolve_config(config)
    clients = AwsClients(resolve_target(target), chain.app.deploy_role_name)
    return PipelineConsole(clients), stage_pipelines(chain)


def approve(
    stage: Annotated[str, typer.Argument(help="Stage whose pipeline waits for an approval.")],
    config: ConfigOption = None,
    target: TargetOption = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    comment: Annotated[str, typer.Option(help="Summary recorded with the answer.")] = "",
) -> None:
    """Answer the manual approval waiting in STAGE's pipeline (found through GetPipelineState)."""

    def body() -> None:
        from xrdeploy.pipelines import find_stage

        console, pipelines = _console(config, target)
        pipeline = find_stage(pipelines, stage)
        verdict = "rejected" if reject else "approved"
        pending = console.answer_approval(
            pipeline, approve=not reject, comment=comment or f"{verdict} with xrdeploy approve"
        )
        out.print(
            f"{stage}: {verdict} {pending.stage_name}/{pending.action_name} of execution "
            f"{pending.execution_id}",
            markup=False,
        )

    guarded(body)


def status(config: ConfigOption = None, target: TargetOption = None) -> None:
    """Each stage's pipeline: its stages and actions with status, revision and time."""

    def body() -> None:
        from xrdeploy.pipeline_view import render_stage

        console, pipelines = _console(config, target)
        for pipeline in pipelines:
            for line in render_stage(
                pipeline, console.state(pipeline), console.executions(pipeline, 1)
            ):
                out.print(line, markup=False)

    guarded(body)
