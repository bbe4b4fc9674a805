"""Config in, Terraform HCL-JSON out: builds the cdktf app and synthesizes every stack.

The AWS provider binding takes 10-20 s to import, so it is imported here, lazily, and only by
commands that synthesize.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from xrdeploy.config import ChainConfig
from xrdeploy.packaging import build_zip
from xrdeploy.paths import DEFAULT_OUTDIR, FUNCTION_SOURCE
from xrdeploy.target import DeployTarget


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    stages: tuple[str, ...]
    directory: Path
    provider_aliases: tuple[str, ...]
    omitted_resource_types: tuple[str, ...]

    @property
    def json_path(self) -> Path:
        return self.directory / "cdk.tf.json"

    def document(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.json_path.read_text())
        return loaded


@dataclass(frozen=True)
class Synthesis:
    outdir: Path
    stacks: tuple[SynthesizedStack, ...]

    def stack(self, name: str) -> SynthesizedStack:
        return next(s for s in self.stacks if s.name == name)


def _swap_in(partial: Path, outdir: Path) -> None:
    previous = outdir.with_name(f".{outdir.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if outdir.exists():
        outdir.rename(previous)
    partial.rename(outdir)
    shutil.rmtree(previous, ignore_errors=True)


def stack_plan(chain: ChainConfig) -> list[tuple[str, tuple[str, ...]]]:
    """(stack name, stage names) in chain order: one stack per stage, or one for the chain."""
    if chain.layout == "single":
        return [(chain.app.name.replace(".", "-"), tuple(s.name for s in chain.stages))]
    return [(stage.name, (stage.name,)) for stage in chain.stages]


def synthesize(
    chain: ChainConfig, target: DeployTarget, outdir: Path = DEFAULT_OUTDIR
) -> Synthesis:
    # jsii prints a banner on every start under Node 20; the runtime still works on it.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from cdktf import App

    from modules.chain_stack import ChainStack, ChainStackConfig

    # Synthesize beside the outdir and swap it in at the end: a failed synth leaves the previous
    # output whole, never half of a new one.
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    partial = outdir.with_name(f".{outdir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="xrdeploy-package-") as staging:
        package = build_zip(FUNCTION_SOURCE, Path(staging) / "copy_function.zip")
        app = App(outdir=str(partial), skip_validation=False)
        built = []
        for name, stage_names in stack_plan(chain):
            stages = tuple(s for s in chain.stages if s.name in stage_names)
            stack = ChainStack(
                app,
                name,
                config=ChainStackConfig(
                    chain=chain, stages=stages, target=target, function_package=package
                ),
            )
            built.append((name, stage_names, stack))
        try:
            app.synth()
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
                omitted_resource_types=tuple(
                    sorted({kind for part in stack.stage_deployments for kind in part.omitted})
                ),
            )
            for name, stage_names, stack in built
        ),
    )
