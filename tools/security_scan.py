"""Checkov over the synthesized stacks and over plans of them: what tests/security runs, and what
docs/security-scan.md reports.

Two scans, both of the stacks as synthesized for real AWS (the emulator target leaves out
CodePipeline, CodeDeploy and the instances, and carries emulator credentials in its providers):

- `terraform_json`: every stack's `cdk.tf.json`, for every config in SCAN_CONFIGS.
- `terraform_plan`: `terraform show -json` of a plan of every stack in PLAN_CONFIGS. A plan reads
  data sources (default VPC, subnets, AMI parameter), so it needs an AWS API: moto's server on
  loopback, which the AWS SDK reaches through AWS_ENDPOINT_URL, with the stack's account id as
  access key (tools/moto_server.py). Nothing is applied; the state stays empty.

Each scan is one Checkov run without .checkov.yaml's skips (the checks that fail must be exactly
the listed ones, so that no skip is stale and none hides a surprise), and the same results with the
listed checks taken out, as Checkov's `skip-check` leaves them (0 failed is the bar). The file holds
nothing but that list (tests/security checks it), so this is what `checkov --config-file` reports.

    .venv/bin/python -m tools.security_scan   # synthesizes, plans, scans; prints the figures
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.checkov_env import REPO_ROOT, TOOLS_DIR, checkov_executable, ensure_venv, venv_python

if TYPE_CHECKING:
    from xrdeploy.terraform.synth import SynthesizedStack

CHECKOV_CONFIG = REPO_ROOT / ".checkov.yaml"
CONFIGS_DIR = REPO_ROOT / "tests" / "configs"
SCAN_CONFIGS = (
    "default",
    "single_account",
    "one_stage",
    "five_stage",
    "wave",
    "windows",
    "github_source",
    "codecommit_source",
)
# five_stage keeps its state in S3 and deploys through an assumed deploy role: a plan of it would
# need a state bucket and roles faked in moto, and would test moto more than the stacks. Its
# HCL-JSON is in the terraform_json scan all the same, as is the wave config's (its topics,
# rules and stage conditions are read there; a plan adds nothing a data source would change), and
# the Windows config's (it differs from one_stage's plan only in an AMI parameter and user data).
PLAN_CONFIGS = ("default", "single_account", "one_stage")
PLAN_FILE = "security-scan.tfplan"
MOTO_SECRET_KEY = "moto"
# "  - CKV_AWS_18  # reason" in .checkov.yaml
_SKIP_LINE = re.compile(r"^\s*-\s*(?P<check>CKV2?_[A-Z0-9_]+)\s*(?:#\s*(?P<reason>.*\S))?\s*$")


class ScanError(RuntimeError):
    """A one-line problem running the scan (not a finding: findings are in the report)."""


def listed_skips(config: Path = CHECKOV_CONFIG) -> dict[str, str]:
    """Check id -> the reason written beside it in .checkov.yaml ("" when there is none)."""
    skips: dict[str, str] = {}
    in_list = False
    for line in config.read_text().splitlines():
        if line.startswith("skip-check:"):
            in_list = True
            continue
        if in_list and line and not line.startswith((" ", "-", "#")):
            in_list = False  # the next top-level key
        match = _SKIP_LINE.match(line) if in_list else None
        if match:
            skips[match["check"]] = match["reason"] or ""
    return skips


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    file: str


@dataclass(frozen=True)
class CheckovRun:
    framework: str
    version: str
    passed: int
    failed: tuple[Finding, ...]
    parsing_errors: int
    passed_checks: tuple[str, ...]  # the check id of each passed result

    @property
    def passed_ids(self) -> frozenset[str]:
        return frozenset(self.passed_checks)

    @property
    def failed_ids(self) -> frozenset[str]:
        return frozenset(f.check_id for f in self.failed)

    def skipping(self, checks: frozenset[str]) -> CheckovRun:
        """These results with `checks` not run, as a global `skip-check` of Checkov leaves them."""
        passed = tuple(check for check in self.passed_checks if check not in checks)
        return replace(
            self,
            passed=len(passed),
            failed=tuple(f for f in self.failed if f.check_id not in checks),
            passed_checks=passed,
        )

    @property
    def results(self) -> int:
        return self.passed + len(self.failed)


def run_checkov(venv: Path, framework: str, files: Sequence[Path]) -> CheckovRun:
    """Checkov on `files` with no config at all (not even a .checkov.yaml in the working or home
    directory, which Checkov would otherwise pick up by itself): every check runs."""
    if not files:
        raise ScanError(f"checkov {framework}: nothing to scan")
    command = [
        str(checkov_executable(venv)),
        "--framework",
        framework,
        "--output",
        "json",
        "--compact",
        # Offline and self-contained: no policy download from the Prisma/Bridgecrew platform.
        "--skip-download",
    ]
    for path in files:
        command += ["--file", str(path)]
    with tempfile.TemporaryDirectory(prefix="xrdeploy-checkov-") as scratch:
        env = {
            **os.environ,
            "HOME": scratch,
            # Its HCL parser caches its grammar in the temp directory (.lark_cache_<user>_*.tmp),
            # which would outlive the run.
            "TMPDIR": scratch,
            "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "BC_SKIP_MAPPING": "TRUE",
        }
        result = subprocess.run(
            command, cwd=scratch, env=env, capture_output=True, text=True, check=False
        )
    # Exit 1 means "some check failed": the report says which.
    if result.returncode not in (0, 1) or not result.stdout.strip():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ScanError(f"checkov {framework} exited {result.returncode}: {last}")
    report: Any = json.loads(result.stdout)
    if isinstance(report, list):  # one report per framework; we ask for one
        (report,) = [r for r in report if r.get("check_type") == framework]
    summary = report.get("summary", report)
    results = report.get("results", {})
    return CheckovRun(
        framework=framework,
        version=summary["checkov_version"],
        passed=summary["passed"],
        failed=tuple(
            Finding(r["check_id"], r["resource"], r["file_path"])
            for r in results.get("failed_checks", [])
        ),
        parsing_errors=summary["parsing_errors"],
        passed_checks=tuple(r["check_id"] for r in results.get("passed_checks", [])),
    )


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def moto_server(venv: Path, log_path: Path, timeout_s: float = 60) -> Iterator[str]:
    """A moto server on a free loopback port for the duration of the block; yields its URL."""
    port = _free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        server = [str(venv_python(venv)), str(TOOLS_DIR / "moto_server.py")]
        process = subprocess.Popen(
            [*server, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise ScanError(f"moto server exited {process.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError) as error:
                if time.monotonic() > deadline:
                    raise ScanError(
                        f"moto server not up after {timeout_s:.0f} s; see {log_path}"
                    ) from error
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stack_account(document: dict[str, Any]) -> str:
    """The one account a stack's providers are pinned to (the plan gives one access key)."""
    accounts = {str(p["allowed_account_ids"][0]) for p in document["provider"]["aws"]}
    if len(accounts) != 1:
        raise ScanError(f"stack spans accounts {sorted(accounts)}; plan it per account")
    return accounts.pop()


def plan_environment(endpoint: str, account_id: str) -> dict[str, str]:
    """Every AWS call of the provider goes to `endpoint`, as `account_id`; no ambient profile or
    credentials of the developer's can take part."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": account_id,
        "AWS_SECRET_ACCESS_KEY": MOTO_SECRET_KEY,
        "AWS_SESSION_TOKEN": "",
        "AWS_PROFILE": "",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def plan_stacks(
    stacks: Sequence[tuple[str, SynthesizedStack]],
    workdir: Path,
    venv: Path,
    parallelism: int = 2,
) -> list[Path]:
    """Plan each (config name, stack) against a moto server of its own; returns the
    `terraform show -json` files."""
    workdir.mkdir(parents=True, exist_ok=True)
    with moto_server(venv, workdir / "moto.log") as endpoint:
        return plan_stacks_against(endpoint, stacks, workdir, parallelism)


def plan_stacks_against(
    endpoint: str,
    stacks: Sequence[tuple[str, SynthesizedStack]],
    workdir: Path,
    parallelism: int = 2,
) -> list[Path]:
    """Plan each (config name, stack) against the moto server at `endpoint`; returns the
    `terraform show -json` files, `<workdir>/<config>-<stack>.tfplan.json`.

    Plans run on copies: the synthesized directories are shared with other test tiers.
    """
    from xrdeploy.terraform.command import Terraform

    def plan_one(item: tuple[str, SynthesizedStack]) -> Path:
        config_name, stack = item
        # Same depth as <outdir>/stacks/<stack>, so the local backend's relative state path
        # stays inside this config's folder.
        directory = workdir / config_name / "out" / "stacks" / stack.name
        shutil.copytree(
            stack.directory,
            directory,
            symlinks=True,
            ignore=shutil.ignore_patterns(".terraform", "*.tfplan"),
        )
        account = stack_account(stack.document())
        terraform = Terraform(directory, extra_env=plan_environment(endpoint, account))
        # With the stack's lock file (synth writes the committed one), init only links the cached
        # provider, so the plans' inits run side by side; the first install into an empty
        # plugin cache runs alone (Terraform.init). Without it, each init would install into
        # the shared cache again, and concurrent installs race there.
        terraform.init()
        terraform.plan(PLAN_FILE)
        shown = workdir / f"{config_name}-{stack.name}.tfplan.json"
        shown.write_text(json.dumps(terraform.show_json(PLAN_FILE)))
        return shown

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(plan_one, stacks))


@dataclass(frozen=True)
class Scan:
    """One scan: its Checkov run without .checkov.yaml's skips, and those results with them."""

    name: str
    inputs: int
    configured: CheckovRun
    unskipped: CheckovRun

    @property
    def skipped(self) -> int:
        """Check results the skip list kept from running (failing or not)."""
        return self.unskipped.results - self.configured.results


def scan(venv: Path, name: str, framework: str, files: Sequence[Path]) -> Scan:
    unskipped = run_checkov(venv, framework, files)
    configured = unskipped.skipping(frozenset(listed_skips()))
    return Scan(name, len(files), configured, unskipped)


def figures_markdown(scans: Sequence[Scan]) -> str:
    lines = [
        "| scan | files | checks run | passed | failed | skipped | fail without their skip |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in scans:
        failing = ", ".join(sorted(s.unskipped.failed_ids)) or "none"
        checks = len(s.configured.passed_ids | s.configured.failed_ids)
        lines.append(
            f"| {s.name} | {s.inputs} | {checks} | {s.configured.passed} "
            f"| {len(s.configured.failed)} | {s.skipped} | {failing} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    from xrdeploy.config.model import load_config
    from xrdeploy.config.target import parse_target
    from xrdeploy.terraform.synth import synthesize

    started = time.monotonic()
    venv = ensure_venv()
    with tempfile.TemporaryDirectory(prefix="xrdeploy-security-scan-") as scratch:
        root = Path(scratch)
        synthesized = {
            name: synthesize(
                load_config(None if name == "default" else CONFIGS_DIR / f"{name}.yaml"),
                parse_target("aws"),
                root / "synth" / name,
            )
            for name in SCAN_CONFIGS
        }
        stack_files = [s.json_path for name in SCAN_CONFIGS for s in synthesized[name].stacks]
        plans = plan_stacks(
            [(name, s) for name in PLAN_CONFIGS for s in synthesized[name].stacks],
            root / "plans",
            venv,
        )
        scans = [
            scan(venv, "HCL-JSON (`cdk.tf.json`)", "terraform_json", stack_files),
            scan(venv, "plan (`terraform show -json`)", "terraform_plan", plans),
        ]
    sys.stdout.write(f"checkov {scans[0].configured.version}\n\n{figures_markdown(scans)}")
    sys.stdout.write(f"\n{time.monotonic() - started:.0f} s\n")
    return 0 if not any(s.configured.failed for s in scans) else 1


if __name__ == "__main__":
    raise SystemExit(main())
