"""The cdktf CLI against the local cloud, run the way the README gives it: the project's Terraform
settings from `eval "$(python main.py terraform-env)"`, config and target from XRDEPLOY_CONFIG and
XRDEPLOY_TARGET, then `npx cdktf deploy '*' --auto-approve`, `npx cdktf diff <stage>`,
`npx cdktf destroy '*' --auto-approve`. No other cdktf flag.

Nothing may leave the loopback: HTTP(S)_PROXY point at a closed loopback port for every host but
the loopback, so a registry call by Terraform (a `providers lock`, a provider download) fails the
run instead of passing on a machine that happens to be online.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tools.cdktf_cli_env import ensure_cdktf_cli
from xrdeploy.terraform.command import PROVIDER_LOCK_FILE

# The default chain's first two stages (one stage after another is what order needs; a third
# would add minutes, not coverage), under another app name, so its resources cannot meet the
# other tests' chains.
STAGES = ("alpha", "beta")
APP_NAME = "xrdeploy-cdktf"
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STACK_LINE = re.compile(rf"^({'|'.join(STAGES)})  ")
COMMAND_TIMEOUT_S = 840  # under pytest's 900 s per test


@dataclass(frozen=True)
class CdktfProject:
    """A directory laid out like the repository for the cdktf CLI: its cdktf.json (with the app
    run by this interpreter) and node_modules; state and cdktf.out stay inside it."""

    directory: Path
    endpoint: str

    def run(self, *args: str) -> str:
        main = shlex.quote(str(REPO_ROOT / "main.py"))
        python = shlex.quote(sys.executable)
        script = f'eval "$({python} {main} terraform-env)" && npx cdktf ' + " ".join(
            shlex.quote(a) for a in args
        )
        env = dict(os.environ)
        env.update(
            XRDEPLOY_CONFIG=str(self.directory / "chain.yaml"),
            XRDEPLOY_TARGET=f"localstack={self.endpoint}",
            HTTP_PROXY=DEAD_PROXY,
            HTTPS_PROXY=DEAD_PROXY,
            NO_PROXY="127.0.0.1,localhost",
        )
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=self.directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        output = ANSI.sub("", result.stdout + result.stderr)
        assert result.returncode == 0, f"npx cdktf {' '.join(args)} failed:\n{output[-3000:]}"
        return output

    def stack_dir(self, stage: str) -> Path:
        return self.directory / "cdktf.out" / "stacks" / stage

    def state_resources(self, stage: str) -> list[object]:
        state = json.loads((self.directory / f"terraform.{stage}.tfstate").read_text())
        resources: list[object] = state["resources"]
        return resources


def stacks_reporting(output: str, marker: str) -> list[str]:
    """The stacks whose output contains `marker`, in order. The CLI prefixes a stack's name to the
    first line of each chunk it prints for it; continuation lines belong to that stack."""
    current, found = None, []
    for line in output.splitlines():
        prefixed = STACK_LINE.match(line)
        if prefixed:
            current = prefixed.group(1)
        if marker in line and current is not None:
            found.append(current)
    return found


def first_line_of(output: str, stack: str, marker: str) -> int:
    current = None
    for number, line in enumerate(output.splitlines()):
        prefixed = STACK_LINE.match(line)
        if prefixed:
            current = prefixed.group(1)
        if current == stack and marker in line:
            return number
    raise AssertionError(f"{stack}: no line with {marker!r}")


@pytest.fixture(scope="module")
def project(localstack_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> CdktfProject:
    directory = tmp_path_factory.mktemp("cdktf-project")
    settings = json.loads((REPO_ROOT / "cdktf.json").read_text())
    settings["app"] = f"{shlex.quote(sys.executable)} {shlex.quote(str(REPO_ROOT / 'main.py'))}"
    (directory / "cdktf.json").write_text(json.dumps(settings, indent=2))
    (directory / "node_modules").symlink_to(ensure_cdktf_cli())
    chain = yaml.safe_load((REPO_ROOT / "xrdeploy" / "default_config.yaml").read_text())
    chain["app"]["name"] = APP_NAME
    chain["stages"] = [s for s in chain["stages"] if s["name"] in STAGES]
    chain["stages"][-1].pop("gates", None)  # the last stage promotes nowhere: no approval
    (directory / "chain.yaml").write_text(yaml.safe_dump(chain, sort_keys=False))
    return CdktfProject(directory, localstack_endpoint)


@pytest.fixture(scope="module")
def deployed(project: CdktfProject) -> Iterator[str]:
    output = project.run("deploy", "*", "--auto-approve")
    yield output
    # A failed test must not leave the chain in the session's local cloud.
    if any(project.state_resources(stage) for stage in STAGES):
        project.run("destroy", "*", "--auto-approve")


def test_deploying_one_stage_alone_names_the_flag_for_it(project: CdktfProject):
    with pytest.raises(AssertionError) as failed:
        project.run("deploy", "beta", "--auto-approve")
    message = str(failed.value)
    assert "dependencies are not included in the stacks to run: alpha" in message
    assert "--ignore-missing-stack-dependencies" in message


def test_deploy_star_applies_stage_after_stage_in_chain_order(project, deployed):
    assert stacks_reporting(deployed, "Apply complete!") == list(STAGES)
    for earlier, later in itertools.pairwise(STAGES):
        # The next stage starts planning only after the previous one has applied.
        assert first_line_of(deployed, earlier, "Apply complete!") < first_line_of(
            deployed, later, "Terraform used the selected providers"
        )
    for stage in STAGES:
        # init took the provider the committed lock file pins, and nothing rewrote that file
        # (cdktf's registry-only `terraform providers lock` did not run).
        assert (project.stack_dir(stage) / ".terraform.lock.hcl").read_text() == (
            PROVIDER_LOCK_FILE.read_text()
        )
        assert project.state_resources(stage)
    assert stacks_reporting(deployed, "from the dependency lock file") == list(STAGES)


def test_diff_after_deploy_shows_no_changes(project, deployed):
    # One stage: each `cdktf diff` runs the app again (a synth: the provider binding's import) for
    # one stack, and what it checks, the CLI's path to a plan, is the same for every stack. That
    # every stack of the chain re-plans with no changes is tested on the shared chain
    # (chain/test_chain.py) through `python main.py plan`.
    output = project.run("diff", STAGES[-1])  # as the README gives it: `npx cdktf diff beta`
    assert "No changes. Your infrastructure matches the configuration." in output, output[-3000:]


def test_destroy_star_destroys_in_reverse_chain_order(project, deployed):
    output = project.run("destroy", "*", "--auto-approve")
    assert stacks_reporting(output, "Destroy complete!") == list(reversed(STAGES))
    assert all(project.state_resources(stage) == [] for stage in STAGES)
