"""The xrdeploy command line. Every command prints operator errors as one line each and exits 2
(1 for a failed external tool); `--verbose` adds the traceback."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from xrdeploy.cli.local import demo, local_app
from xrdeploy.cli.permissions import permissions
from xrdeploy.cli.pipelines import approve, freeze, status, unfreeze
from xrdeploy.cli.support import (
    ConfigOption,
    Options,
    OutdirOption,
    TargetOption,
    err,
    guarded,
    out,
    resolve_config,
    resolve_outdir,
    resolve_target,
)
from xrdeploy.config.model import ChainConfig, Stage
from xrdeploy.config.target import DeployTarget
from xrdeploy.errors import UserError
from xrdeploy.paths import SAMPLE_APP

if TYPE_CHECKING:
    from xrdeploy.terraform.synth import Synthesis

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    help="Promote one tested build through ordered AWS stages (Terraform via CDKTF).",
)


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
        out.print(f"config ok: {chain.app.name}, {len(chain.stages)} stage(s)")
        source = chain.app.source
        if source.is_git:
            out.print(f"  source: {source.type} {source.repository}, branch {source.branch}")
        for wave in chain.waves():
            out.print(
                "  "
                + " + ".join(f"{s.name} ({s.account_id}/{s.region})" for s in wave)
                + _after(chain, wave)
            )

    guarded(body)


def _after(chain: ChainConfig, wave: tuple[Stage, ...]) -> str:
    upstreams = sorted({u.name for s in wave if (u := chain.upstream_of(s.name)) is not None})
    return f"  after {', '.join(upstreams)}" if upstreams else "  (first)"


@app.command()
def synth(
    config: ConfigOption = None,
    target: TargetOption = None,
    outdir: OutdirOption = None,
    hcl: Annotated[
        bool, typer.Option("--hcl", help="Write HCL (cdk.tf) instead of HCL-JSON (cdk.tf.json).")
    ] = False,
) -> None:
    """Write Terraform for every stack to <outdir>/stacks/<stack>/: cdk.tf.json, or cdk.tf with
    --hcl; each stack gets the provider lock file."""

    def body() -> None:
        from xrdeploy.terraform.synth import synthesize

        chain = resolve_config(config)
        deploy_target = resolve_target(target)
        directory = resolve_outdir(outdir)
        with err.status(f"synthesizing {len(chain.stages)} stage(s) for {deploy_target.name}"):
            result = synthesize(chain, deploy_target, directory, hcl=hcl)
        for stack in result.stacks:
            out.print(f"stack {stack.name}: {stack.stack_file}")

    guarded(body)


StacksOption = Annotated[
    list[str] | None,
    typer.Argument(help="Stacks to act on (default: all, in chain order).", show_default=False),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
AllAtOnceOption = Annotated[
    bool,
    typer.Option(
        "--all-at-once",
        help="Apply every stack at the same time instead of stage after stage: as fast as the "
        "slowest stack, but a bad change reaches every stage together.",
    ),
]


def _synthesized(
    config: Path | None, target: str | None, outdir: Path | None
) -> tuple[ChainConfig, DeployTarget, Synthesis]:
    from xrdeploy.terraform.synth import synthesize

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
        from xrdeploy.terraform.plan_summary import plan_summary_markdown
        from xrdeploy.terraform.runner import ChainRunner

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
    all_at_once: bool = False,
) -> None:
    from xrdeploy.terraform.runner import ChainRunner

    _, _, synthesis = _synthesized(config, target, outdir)
    _confirm(action, synthesis, stacks, yes)
    runner = ChainRunner(synthesis, progress=_progress)
    if action == "destroy":
        runner.destroy(stacks)
        out.print("destroyed: " + ", ".join(stacks or [s.name for s in synthesis.stacks]))
        return
    applied = runner.apply(stacks, all_at_once=all_at_once)
    for stack in applied:
        out.print(f"  {stack.line()}")
    out.print("deployed: " + ", ".join(a.stack for a in applied))


@app.command()
def deploy(
    stacks: StacksOption = None,
    config: ConfigOption = None,
    target: TargetOption = None,
    outdir: OutdirOption = None,
    yes: YesOption = False,
    all_at_once: AllAtOnceOption = False,
) -> None:
    """terraform apply every stack in chain order; stops at the first failing stage
    (--all-at-once: every stack at the same time)."""
    guarded(lambda: _run_chain("deploy", stacks, config, target, outdir, yes, all_at_once))


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
        from xrdeploy.config.graph import markdown, mermaid

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


@app.command("terraform-env")
def terraform_env() -> None:
    """Shell exports that give the cdktf CLI and plain Terraform this project's Terraform CLI
    config (the provider mirror when there is one): eval "$(python main.py terraform-env)"."""

    def body() -> None:
        import shlex

        from xrdeploy.terraform.command import describe_provider_source, terraform_env

        out.print(f"# {describe_provider_source()}", markup=False)
        for name, value in terraform_env().items():
            out.print(f"export {name}={shlex.quote(value)}", markup=False)

    guarded(body)


@app.command("package-app")
def package_app(
    source: Annotated[Path, typer.Argument(help="Directory with appspec.yml.")] = SAMPLE_APP,
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("dist/sample_app.zip"),
    config: ConfigOption = None,
) -> None:
    """Zip a CodeDeploy revision (default: sample_app/) into the artifact the chain promotes;
    its appspec must name the OS the config's fleets run."""

    def body() -> None:
        from xrdeploy.appspec import check_revision
        from xrdeploy.packaging import build_zip

        problems = check_revision(source, resolve_config(config).fleet_os)
        if problems:
            raise UserError([f"{source}: {p}" for p in problems])
        build_zip(source, output)
        out.print(f"wrote {output} ({output.stat().st_size} bytes)")

    guarded(body)


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


app.add_typer(local_app, name="local")
app.command()(demo)
app.command()(status)
app.command()(approve)
app.command()(freeze)
app.command()(unfreeze)
app.command()(permissions)


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
