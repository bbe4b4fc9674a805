"""`status`, `approve`, `freeze` and `unfreeze`: each stage's pipeline as the console shows it,
the answer to a pending manual approval, and the stage's line stopped or opened again, through the
CodePipeline API (AWS or the local cloud alike)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from xrdeploy.cli.support import (
    ConfigOption,
    TargetOption,
    guarded,
    out,
    resolve_config,
    resolve_target,
)
from xrdeploy.errors import ToolError


def _console(config: Any, target: str | None) -> tuple[Any, Any]:
    """`config` is a path (or None), or an already loaded chain."""
    from xrdeploy.aws_clients import AwsClients
    from xrdeploy.config.model import ChainConfig
    from xrdeploy.console.pipelines import PipelineConsole, stage_pipelines

    chain = config if isinstance(config, ChainConfig) else resolve_config(config)
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
        from xrdeploy.console.pipelines import find_stage

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


def freeze(
    stage: Annotated[str, typer.Argument(help="Stage no build may enter until `unfreeze`.")],
    reason: Annotated[str, typer.Option(help="Why, shown by `status` to everyone.")],
    config: ConfigOption = None,
    target: TargetOption = None,
) -> None:
    """Stop the line: every build waits in front of STAGE's Deploy (its inbound transition
    disabled) until `unfreeze STAGE`; the other stages of its wave go on."""

    def body() -> None:
        from xrdeploy.console.freeze import LINE_STAGE, check_reason, freeze_of
        from xrdeploy.console.pipeline_view import describe_freeze
        from xrdeploy.console.pipelines import find_stage

        text = check_reason(reason)
        console, pipelines = _console(config, target)
        pipeline = find_stage(pipelines, stage)
        with aws_errors():
            current = freeze_of(console.state(pipeline))
            if current is not None:
                out.print(f"{stage}: already {describe_freeze(current)}", markup=False)
                return
            console.disable_inbound(pipeline, LINE_STAGE, text)
        out.print(
            f"{stage}: frozen; builds wait before {LINE_STAGE} in {pipeline.pipeline} until "
            f"`unfreeze {stage}`",
            markup=False,
        )

    guarded(body)


def unfreeze(
    stage: Annotated[str, typer.Argument(help="Frozen stage to open again.")],
    config: ConfigOption = None,
    target: TargetOption = None,
) -> None:
    """Open STAGE's line again: the build waiting in front of its Deploy goes on."""

    def body() -> None:
        from xrdeploy.console.freeze import LINE_STAGE, freeze_of
        from xrdeploy.console.pipelines import find_stage

        console, pipelines = _console(config, target)
        pipeline = find_stage(pipelines, stage)
        with aws_errors():
            current = freeze_of(console.state(pipeline))
            if current is None:
                out.print(f"{stage}: not frozen; nothing to do", markup=False)
                return
            console.enable_inbound(pipeline, LINE_STAGE)
        waiting = ", ".join(current.waiting)
        out.print(
            f"{stage}: unfrozen" + (f"; {waiting} goes on into {LINE_STAGE}" if waiting else ""),
            markup=False,
        )

    guarded(body)


def status(
    config: ConfigOption = None,
    target: TargetOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The promotion ledger as JSON (schema in README).")
    ] = False,
) -> None:
    """Each stage's pipeline and promotion ledger: the revision live there and where it came from
    (flagged when it never passed its upstream stage), what is in flight, gates pending."""

    def body() -> None:
        from xrdeploy.console.pipeline_view import ledger_json, ledger_lines, render_stage
        from xrdeploy.console.provenance import read_ledger

        chain = resolve_config(config)
        console, _ = _console(chain, target)
        with aws_errors():
            ledgers = read_ledger(console, chain)
            if as_json:
                text = json.dumps(ledger_json(chain.app.name, ledgers), indent=2)
                out.print(text, markup=False, emoji=False, highlight=False)
                return
            for ledger in ledgers:
                pipeline = ledger.pipeline
                lines = render_stage(
                    pipeline, console.state(pipeline), console.executions(pipeline, 1)
                )
                for line in lines[:1] + ledger_lines(ledger) + lines[1:]:
                    out.print(line, markup=False)

    guarded(body)


@contextmanager
def aws_errors() -> Iterator[None]:
    """An AWS error while reading becomes one line: the API's code and message."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        raise ToolError(
            f"{error.operation_name}: {details.get('Code', '?')}: {details.get('Message', error)}"
        ) from None
    except BotoCoreError as error:
        raise ToolError(f"AWS: {error}") from None
