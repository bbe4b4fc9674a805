"""Config in, Terraform out: builds the cdktf app and synthesizes every stack, as HCL-JSON
(`cdk.tf.json`, the default) or as HCL (`cdk.tf`, for teams leaving CDKTF).

Per-stage stacks depend on their upstream stage's stack in the manifest, so the cdktf CLI deploys
them in chain order and destroys them in reverse, as `python main.py deploy` does: a rollout order,
not a creation order (no stack needs another's resources to exist). Each stack gets the committed
provider lock file.

The AWS provider binding takes 10-20 s to import, so it is imported here, lazily, and only by
commands that synthesize.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from xrdeploy.config.model import ChainConfig
from xrdeploy.config.target import DeployTarget
from xrdeploy.errors import ToolError
from xrdeploy.packaging import build_zip
from xrdeploy.paths import DEFAULT_OUTDIR, FUNCTION_SOURCE
from xrdeploy.terraform.command import PROVIDER_LOCK_FILE, process_settings

if TYPE_CHECKING:
    from cdktf import TerraformStack

    from xrdeploy.terraform.assembly.chain_stack import ChainStack

LOCK_FILE_NAME = ".terraform.lock.hcl"
# cdktf runs on Node.js through jsii. jsii 1.142 (cdktf 0.21's) supports Node 20, 22 and 24; these
# are their end-of-life dates (jsii's own table). Keep in step with package.json's "engines".
MINIMUM_NODE_MAJOR = 20
NODE_END_OF_LIFE = {20: date(2026, 4, 30), 22: date(2027, 4, 30), 24: date(2028, 4, 30)}
NODE_ADVICE = "install Node.js 22 or 24 (LTS)"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    stages: tuple[str, ...]
    directory: Path
    provider_aliases: tuple[str, ...]
    hcl: bool = False

    @property
    def json_path(self) -> Path:
        return self.directory / "cdk.tf.json"

    @property
    def stack_file(self) -> Path:
        """The file cdktf wrote: `cdk.tf` for HCL output, `cdk.tf.json` otherwise."""
        return self.directory / "cdk.tf" if self.hcl else self.json_path

    def document(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.json_path.read_text())
        return loaded


@dataclass(frozen=True)
class Synthesis:
    outdir: Path
    stacks: tuple[SynthesizedStack, ...]

    def stack(self, name: str) -> SynthesizedStack:
        return next(s for s in self.stacks if s.name == name)


def check_node(today: date | None = None) -> str:
    """The Node.js version cdktf will run on; a one-line error when there is none or it is too
    old, a one-line warning when it is past its end of life (then jsii's own multi-line banner is
    silenced: the operator has been told)."""
    node = shutil.which("node")
    if node is None:
        raise ToolError(f"node: not found on PATH; cdktf needs Node.js >= 20: {NODE_ADVICE}")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        major = int(version.removeprefix("v").split(".")[0])
    except ValueError:
        raise ToolError(f"node --version gave {version!r}; {NODE_ADVICE}") from None
    if major < MINIMUM_NODE_MAJOR:
        raise ToolError(f"node {version}: cdktf needs Node.js >= 20; {NODE_ADVICE}")
    end_of_life = NODE_END_OF_LIFE.get(major)
    if end_of_life is not None and end_of_life < (today or date.today()):
        log.warning(
            "node %s reached its end of life on %s; cdktf still runs on it, but %s",
            version,
            end_of_life,
            NODE_ADVICE,
        )
        os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = str(major)
    return version


def _swap_in(partial: Path, outdir: Path) -> None:
    previous = outdir.with_name(f".{outdir.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if outdir.exists():
        outdir.rename(previous)
    partial.rename(outdir)
    shutil.rmtree(previous, ignore_errors=True)


def _upstream_stacks(
    chain: ChainConfig,
    stage_names: tuple[str, ...],
    built: list[tuple[str, tuple[str, ...], ChainStack]],
) -> list[ChainStack]:
    """The stacks already built that hold an upstream of one of `stage_names` (config validation
    puts every upstream earlier in the list, so each is already built)."""
    upstreams = {
        upstream.name
        for name in stage_names
        if (upstream := chain.upstream_of(name)) is not None and upstream.name not in stage_names
    }
    return [stack for _, names, stack in built if upstreams.intersection(names)]


def stack_plan(chain: ChainConfig) -> list[tuple[str, tuple[str, ...]]]:
    """(stack name, stage names) in chain order: one stack per stage, or one for the chain."""
    if chain.layout == "single":
        return [(chain.app.name.replace(".", "-"), tuple(s.name for s in chain.stages))]
    return [(stage.name, (stage.name,)) for stage in chain.stages]


# cdktf 0.21's HCL renderer quotes references, which Terraform accepts with a deprecation warning
# each: the provider meta-argument and depends_on entries.
_QUOTED_PROVIDER = re.compile(r'^(\s*provider\s*=\s*)"(aws\.[A-Za-z0-9_-]+)"$', re.MULTILINE)
_DEPENDS_ON = re.compile(r"^(\s*depends_on\s*=\s*\[\n)((?:\s*\"[^\"\n]+\",\n)*)", re.MULTILINE)
# It writes a multi-line string S as "<<EOF\n" + S + "\nEOF", which means S plus a newline.
_HEREDOC = re.compile(r"<<EOF\n(.*?)\nEOF$", re.MULTILINE | re.DOTALL)


def _exact_heredoc(match: re.Match[str]) -> str:
    body = match.group(1)
    return f"<<EOF\n{body}EOF" if body.endswith("\n") else f"chomp(<<EOF\n{body}\nEOF\n)"


def tidy_hcl(text: str) -> str:
    """cdktf's HCL, corrected and as a team would keep it: multi-line strings exactly as in the
    JSON, references unquoted, and `terraform fmt`."""
    text = _HEREDOC.sub(_exact_heredoc, text)
    text = _QUOTED_PROVIDER.sub(r"\1\2", text)
    text = _DEPENDS_ON.sub(lambda m: m.group(1) + m.group(2).replace('"', ""), text)
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolError("synth --hcl: terraform not found on PATH (it formats the HCL)")
    result = subprocess.run(
        [terraform, "fmt", "-no-color", "-"],
        input=text,
        env={**os.environ, **process_settings()},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ToolError(f"synth --hcl: terraform fmt refused cdktf's HCL: {result.stderr.strip()}")
    return result.stdout


def _render_hcl(stack: TerraformStack, directory: Path) -> None:
    """cdktf 0.21 renders HCL only when its Node process started with SYNTH_HCL_OUTPUT=true;
    App(hcl_output=True) alone just names the file cdk.tf. So render it here, as cdktf would."""
    rendered = stack.to_hcl_terraform()
    (directory / "cdk.tf").write_text(tidy_hcl(rendered["hcl"]))
    (directory / "metadata.json").write_text(
        json.dumps(rendered["metadata"], indent=2, sort_keys=True) + "\n"
    )


def _add_lock_files(stacks_dir: Path) -> None:
    for stack_dir in stacks_dir.iterdir():
        shutil.copyfile(PROVIDER_LOCK_FILE, stack_dir / LOCK_FILE_NAME)


def synthesize(
    chain: ChainConfig, target: DeployTarget, outdir: Path = DEFAULT_OUTDIR, *, hcl: bool = False
) -> Synthesis:
    check_node()
    from cdktf import App

    from xrdeploy.terraform.assembly.chain_stack import ChainStack, ChainStackConfig

    # Synthesize beside the outdir and swap it in at the end: a failed synth leaves the previous
    # output whole, never half of a new one.
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    partial = outdir.with_name(f".{outdir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="xrdeploy-package-") as staging:
        package = build_zip(FUNCTION_SOURCE, Path(staging) / "copy_function.zip")
        app = App(outdir=str(partial), skip_validation=False, hcl_output=hcl)
        # The cdktf CLI's `synth --hcl` asks through SYNTH_HCL_OUTPUT, which App obeys.
        hcl = bool(app.hcl_output)
        built: list[tuple[str, tuple[str, ...], ChainStack]] = []
        for name, stage_names in stack_plan(chain):
            stages = tuple(s for s in chain.stages if s.name in stage_names)
            stack = ChainStack(
                app,
                name,
                config=ChainStackConfig(
                    chain=chain, stages=stages, target=target, function_package=package
                ),
            )
            # The rollout order `cdktf deploy '*'` follows: a change reaches a stage after its
            # upstream, as a build does, so a bad change stops at the first stage; the stages of a
            # wave do not wait for each other. A choice, not a need: no stack reads or names
            # another's resources at creation (each promotion role trusts its upstream account
            # under an aws:PrincipalArn condition), so any stack applies alone, in any order.
            for dependency in _upstream_stacks(chain, stage_names, built):
                stack.add_dependency(dependency)
            built.append((name, stage_names, stack))
        try:
            app.synth()
            if hcl:
                for name, _, stack in built:
                    _render_hcl(stack, partial / "stacks" / name)
            _add_lock_files(partial / "stacks")
        except Exception:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    _swap_in(partial, outdir)
    return Synthesis(
        outdir=outdir,
        stacks=tuple(
            SynthesizedStack(
                name=name,
                stages=stage_names,
                directory=outdir / "stacks" / name,
                provider_aliases=tuple(stack.provider_aliases),
                hcl=hcl,
            )
            for name, stage_names, stack in built
        ),
    )
