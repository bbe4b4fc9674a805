"""The xrdeploy command line. Every command prints operator errors as one line each and exits 2
(1 for a failed external tool); `--verbose` adds the traceback."""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer
from rich.console import Console

from xrdeploy.config import ChainConfig, load_config
from xrdeploy.errors import UserError
from xrdeploy.paths import DEFAULT_OUTDIR, LOCAL_HOME, SAMPLE_APP
from xrdeploy.target import DeployTarget, parse_target

if TYPE_CHECKING:
    from xrdeploy.local_chain import Hop
    from xrdeploy.pipeline_emulator import StageRun
    from xrdeploy.synth import Synthesis

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
    return parse_target(value or os.environ.get(ENV_TARGET) or "aws")


def resolve_outdir(value: Path | None) -> Path:
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
        out.print(
            f"config ok: {chain.app.name}, {len(chain.stages)} stage(s): "
            + " -> ".join(f"{s.name} ({s.account_id}/{s.region})" for s in chain.stages)
        )

    guarded(body)


@app.command()
def synth(
    config: ConfigOption = None, target: TargetOption = None, outdir: OutdirOption = None
) -> None:
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
                out.print(
                    f"  left out for {deploy_target.name} (not in the free emulator): "
                    + ", ".join(stack.omitted_resource_types)
                )

    guarded(body)


StacksOption = Annotated[
    list[str] | None,
    typer.Argument(help="Stacks to act on (default: all, in chain order).", show_default=False),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _synthesized(
    config: Path | None, target: str | None, outdir: Path | None
) -> tuple[ChainConfig, DeployTarget, Synthesis]:
    from xrdeploy.synth import synthesize

    chain = resolve_config(config)
    deploy_target = resolve_target(target)
    with err.status(f"synthesizing {len(chain.stages)} stage(s) for {deploy_target.name}"):
        synthesis = synthesize(chain, deploy_target, resolve_outdir(outdir))
    return chain, deploy_target, synthesis


def _progress(message: str) -> None:
    err.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")


@app.command()
def plan(
    stacks: StacksOption = None,
    config: ConfigOption = None,
    target: TargetOption = None,
    outdir: OutdirOption = None,
    summary: Annotated[
        Path | None, typer.Option(help="Write the Markdown summary here (for a PR comment).")
    ] = None,
    parallelism: Annotated[int, typer.Option(min=1, max=8, help="Stacks planned at once.")] = 2,
) -> None:
    """Synth, then terraform init + plan every stack in parallel. Exit 0: no changes; 3: changes."""

    def body() -> int:
        from xrdeploy.stacks import ChainRunner, plan_summary_markdown

        _, _, synthesis = _synthesized(config, target, outdir)
        runner = ChainRunner(synthesis, progress=_progress)
        plans = runner.plan(stacks, parallelism=parallelism)
        text = plan_summary_markdown(plans)
        if summary is not None:
            write_atomically(summary, text)
        out.print(text, markup=False)
        # 1 and 2 are taken (tool failure, bad input); 3 says "there is something to apply".
        return 3 if any(p.has_changes for p in plans) else 0

    code = guarded(body)
    raise typer.Exit(code)


def _confirm(action: str, synthesis: Synthesis, names: list[str] | None, yes: bool) -> None:
    chosen = names or [s.name for s in synthesis.stacks]
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(f"{action} needs --yes when not run from a terminal")
    if not typer.confirm(f"{action} {', '.join(chosen)}?", default=False):
        raise typer.Abort()


def _run_chain(
    action: Literal["deploy", "destroy"],
    stacks: list[str] | None,
    config: Path | None,
    target: str | None,
    outdir: Path | None,
    yes: bool,
) -> None:
    from xrdeploy.stacks import ChainRunner

    _, _, synthesis = _synthesized(config, target, outdir)
    _confirm(action, synthesis, stacks, yes)
    runner = ChainRunner(synthesis, progress=_progress)
    if action == "deploy":
        runner.deploy(stacks)
    else:
        runner.destroy(stacks)
    done = {"deploy": "deployed", "destroy": "destroyed"}[action]
    out.print(f"{done}: " + ", ".join(stacks or [s.name for s in synthesis.stacks]))


@app.command()
def deploy(
    stacks: StacksOption = None,
    config: ConfigOption = None,
    target: TargetOption = None,
    outdir: OutdirOption = None,
    yes: YesOption = False,
) -> None:
    """terraform apply every stack in chain order; stops at the first failing stage."""
    guarded(lambda: _run_chain("deploy", stacks, config, target, outdir, yes))


@app.command()
def destroy(
    stacks: StacksOption = None,
    config: ConfigOption = None,
    target: TargetOption = None,
    outdir: OutdirOption = None,
    yes: YesOption = False,
) -> None:
    """terraform destroy every stack in reverse chain order."""
    guarded(lambda: _run_chain("destroy", stacks, config, target, outdir, yes))


@app.command()
def graph(
    config: ConfigOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write Markdown here (.md), or render .svg/.png with mmdc if it is installed.",
        ),
    ] = None,
) -> None:
    """The chain as a Mermaid diagram."""

    def body() -> None:
        from xrdeploy.graph import markdown, mermaid

        chain = resolve_config(config)
        if output is None:
            out.print(markdown(chain), markup=False)
        elif output.suffix in {".svg", ".png"}:
            render_mermaid(mermaid(chain), output)
            out.print(f"wrote {output}")
        else:
            write_atomically(output, markdown(chain))
            out.print(f"wrote {output}")

    guarded(body)


@app.command("package-app")
def package_app(
    source: Annotated[Path, typer.Argument(help="Directory with appspec.yml.")] = SAMPLE_APP,
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("dist/sample_app.zip"),
) -> None:
    """Zip a CodeDeploy revision (default: sample_app/) into the artifact the chain promotes."""

    def body() -> None:
        from xrdeploy.appspec import check_revision
        from xrdeploy.packaging import build_zip

        problems = check_revision(source)
        if problems:
            raise UserError([f"{source}: {p}" for p in problems])
        build_zip(source, output)
        out.print(f"wrote {output} ({output.stat().st_size} bytes)")

    guarded(body)


@app.command()
def demo(
    config: ConfigOption = None,
    build: Annotated[
        Path | None, typer.Option(help="Build to promote (default: sample_app/ packaged).")
    ] = None,
    keep: Annotated[
        bool,
        typer.Option(
            help="Leave the stacks deployed (only useful with an external LOCALSTACK_ENDPOINT)."
        ),
    ] = False,
) -> None:
    """Start LocalStack, deploy every stage into it, promote the sample app through the chain
    with the deployed copy functions, report each hop, then destroy."""

    def body() -> int:
        import tempfile

        from xrdeploy.local_chain import (
            LocalDeployment,
            local_emulator,
            promote_through_chain,
            sha256_of,
            upload_build,
            with_emulator_state,
        )
        from xrdeploy.packaging import build_zip

        chain = with_emulator_state(resolve_config(config))
        with tempfile.TemporaryDirectory(prefix="xrdeploy-demo-") as scratch:
            artifact = build or build_zip(SAMPLE_APP, Path(scratch) / "sample_app.zip")
            with local_emulator(_progress) as emulator:
                deployment = LocalDeployment(
                    chain, emulator, LOCAL_HOME / "demo", progress=_progress
                )
                deployment.synthesize()
                try:
                    deployment.deploy()
                    version = upload_build(deployment, artifact)
                    first = deployment.stage_outputs()[0]
                    out.print(
                        f"uploaded {artifact.name} sha256 {sha256_of(artifact)[:16]}… to "
                        f"s3://{first['source_bucket']}/{first['source_key']} "
                        f"(version {version})"
                    )
                    runs, hops = promote_through_chain(deployment)
                    _print_chain_report(runs, hops)
                    promoted_all = len(hops) == len(chain.stages) - 1 and all(
                        h.outcome == "success" for h in hops
                    )
                finally:
                    if keep:
                        out.print(
                            "stacks left deployed; remove them with: python main.py "
                            "destroy --target localstack=" + emulator.endpoint + " --yes"
                        )
                    else:
                        _progress("cleaning up: destroying every stage (reverse order)")
                        deployment.destroy()
        out.print(
            "done: "
            + (
                "the build reached every stage"
                if promoted_all
                else "the chain stopped early (see above)"
            )
        )
        return 0 if promoted_all else 1

    raise typer.Exit(guarded(body))


def _print_chain_report(runs: list[StageRun], hops: list[Hop]) -> None:
    for stage_run in runs:
        steps = ", ".join(f"{r.action}: {r.outcome}" for r in stage_run.records)
        out.print(f"stage {stage_run.stage}: {steps}", markup=False)
    for hop in hops:
        result = hop.outcome if hop.outcome == "success" else f"{hop.outcome}: {hop.message}"
        out.print(
            f"{hop.source_stage} → {hop.destination_stage}: s3://{hop.bucket}/{hop.key} "
            f"version {hop.version_id or '-'} sha256 {hop.sha256[:12] or '-'}… "
            f"{hop.seconds:.1f}s {result}",
            markup=False,
        )


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def render_mermaid(source: str, output: Path) -> None:
    import shutil
    import subprocess
    import tempfile

    mmdc = shutil.which("mmdc")
    if mmdc is None:
        raise UserError(
            "--output: rendering .svg/.png needs mmdc (npm i -g "
            "@mermaid-js/mermaid-cli); use a .md file instead"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".mmd", delete=False) as handle:
        handle.write(source)
    result = subprocess.run(
        [mmdc, "-i", handle.name, "-o", str(output)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise UserError(f"mmdc failed: {(result.stderr or result.stdout).strip()[:200]}")


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
