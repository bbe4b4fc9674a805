"""The xrdeploy command line. Every command prints operator errors as one line each and exits 2
(1 for a failed external tool); `--verbose` adds the traceback."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from xrdeploy.config import ChainConfig, load_config
from xrdeploy.errors import UserError
from xrdeploy.target import DeployTarget, parse_target

# cdktf's CLI runs `python main.py` with no arguments; these let it choose config and target.
ENV_CONFIG = "XRDEPLOY_CONFIG"
ENV_TARGET = "XRDEPLOY_TARGET"
ENV_OUTDIR = "CDKTF_OUTDIR"  # set by the cdktf CLI

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    help="Promote one tested build through ordered AWS stages (Terraform via CDKTF).",
)

T = TypeVar("T")


class Options:
    verbose = False


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Chain config (YAML). Default: the embedded demo chain.",
                 show_default=False),
]
TargetOption = Annotated[
    str | None,
    typer.Option("--target", "-t", help="aws, localstack or localstack=URL.", show_default=False),
]
OutdirOption = Annotated[
    Path | None, typer.Option("--outdir", help="Where to write the stacks (default cdktf.out).")
]


def guarded(action: Callable[[], T]) -> T:
    """Run a command body, turning operator errors into one line each and an exit code."""
    try:
        return action()
    except UserError as exc:
        if Options.verbose:
            traceback.print_exc()
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {problem}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def resolve_config(path: Path | None) -> ChainConfig:
    if path is None and os.environ.get(ENV_CONFIG):
        path = Path(os.environ[ENV_CONFIG])
    return load_config(path)


def resolve_target(value: str | None) -> DeployTarget:
    return parse_target(value or os.environ.get(ENV_TARGET) or "aws")


def resolve_outdir(value: Path | None) -> Path:
    from xrdeploy.synth import DEFAULT_OUTDIR

    if value is not None:
        return value
    return Path(os.environ[ENV_OUTDIR]) if os.environ.get(ENV_OUTDIR) else DEFAULT_OUTDIR


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show full tracebacks.")] = False,
) -> None:
    Options.verbose = verbose
    if ctx.invoked_subcommand is None:
        # Plain `python main.py` is the cdktf app entry point: synthesize.
        synth(config=None, target=None, outdir=None)


@app.command()
def validate(config: ConfigOption = None) -> None:
    """Check a chain config without synthesizing (fast: no provider import)."""

    def body() -> None:
        chain = resolve_config(config)
        out.print(f"config ok: {chain.app.name}, {len(chain.stages)} stage(s): "
                  + " -> ".join(f"{s.name} ({s.account_id}/{s.region})" for s in chain.stages))

    guarded(body)


@app.command()
def synth(config: ConfigOption = None, target: TargetOption = None,
          outdir: OutdirOption = None) -> None:
    """Write Terraform HCL-JSON for every stack to <outdir>/stacks/<stack>/cdk.tf.json."""

    def body() -> None:
        from xrdeploy.synth import synthesize

        chain = resolve_config(config)
        deploy_target = resolve_target(target)
        directory = resolve_outdir(outdir)
        with err.status(f"synthesizing {len(chain.stages)} stage(s) for {deploy_target.name}"):
            result = synthesize(chain, deploy_target, directory)
        for stack in result.stacks:
            out.print(f"stack {stack.name}: {stack.json_path}")
            if stack.omitted_resource_types:
                out.print(f"  left out for {deploy_target.name} (not in the free emulator): "
                          + ", ".join(stack.omitted_resource_types))

    guarded(body)


def run(argv: list[str] | None = None) -> int:
    """Console entry. Usage errors (unknown option, bad value) become one line and exit 2,
    like config errors, instead of click's multi-line box."""
    try:
        # With standalone_mode off, a command's typer.Exit comes back as the return value.
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 1
    except typer.TyperException as exc:
        err.print(f"[red]error:[/red] {exc.format_message()}")
        return exc.exit_code
    return code if isinstance(code, int) else 0
