"""What every command of the CLI shares: the consoles, the options, config and target resolution,
and `guarded`, which turns operator errors into one line each and an exit code."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from xrdeploy.config.model import ChainConfig, load_config
from xrdeploy.config.target import DeployTarget, parse_target
from xrdeploy.errors import UserError
from xrdeploy.paths import DEFAULT_OUTDIR

# cdktf's CLI runs `python main.py` with no arguments; these let it choose config and target.
ENV_CONFIG = "XRDEPLOY_CONFIG"
ENV_TARGET = "XRDEPLOY_TARGET"
ENV_OUTDIR = "CDKTF_OUTDIR"  # set by the cdktf CLI

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")


class Options:
    verbose = False


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Chain config (YAML). Default: the embedded demo chain.",
        show_default=False,
    ),
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
    """`--target localstack` without a URL means the running local cloud (`local up`), if any."""
    chosen = value or os.environ.get(ENV_TARGET) or "aws"
    if chosen == "localstack":
        from xrdeploy.rehearsal.local_cloud import running_endpoint

        endpoint = running_endpoint()
        if endpoint:
            chosen = f"localstack={endpoint}"
    return parse_target(chosen)


def resolve_outdir(value: Path | None) -> Path:
    if value is not None:
        return value
    return Path(os.environ[ENV_OUTDIR]) if os.environ.get(ENV_OUTDIR) else DEFAULT_OUTDIR
