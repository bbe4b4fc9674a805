"""Running Terraform on synthesized stacks, with a CLI config of our own.

Terraform reads its CLI config from TF_CLI_CONFIG_FILE. We always write our own and pass it to
the child process only: with a local filesystem mirror of the AWS provider when this machine has
one (offline machines), otherwise the registry; in both cases a shared plugin cache, so the
700 MB provider is unpacked once, not once per stack. `terraform_env()` hands the same settings
to a shell, for the cdktf CLI and plain Terraform.

Every synthesized stack gets a copy of the committed provider lock file (PROVIDER_LOCK_FILE), so
`terraform init` verifies the provider against pinned hashes and the cdktf CLI skips its
`terraform providers lock` step, which would ask the public registry.

The CLI config, plugin cache and init lock live in `.xrdeploy/` unless XRDEPLOY_TERRAFORM_HOME
names another directory: the test suite gives each of its workers one, because Terraform's plugin
cache is not safe for concurrent installs and a lock shared by workers would serialize their inits.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xrdeploy.errors import ToolError
from xrdeploy.locking import file_lock
from xrdeploy.paths import REPO_ROOT, STATE_HOME

AWS_PROVIDER_VERSION = "5.100.0"
AWS_PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
# Regenerate after a provider bump with tools/lock_providers.py (docs/leaving-cdktf.md).
PROVIDER_LOCK_FILE = REPO_ROOT / "terraform" / ".terraform.lock.hcl"
# Where offline machines keep provider mirrors; XRDEPLOY_PROVIDER_MIRROR names another.
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
)


# Every terraform we start: otherwise it calls HashiCorp's checkpoint service (a version check that
# fails offline with a warning) and writes ~/.terraform.d/checkpoint_signature.
NO_CHECKPOINT = {"CHECKPOINT_DISABLE": "1"}
# Terraform and the AWS provider are Go programs that allocate heavily while they load the
# provider's schema (thousands of resource types, in every command and again in the provider
# process of every graph walk). Collecting garbage at 4x the live heap instead of Go's 2x cuts
# their CPU by about 30% for about 45% more memory per process (docs/benchmarks.md).
GOGC_DEFAULT = "400"

_INIT_LOCK = threading.Lock()
TERRAFORM_HOME_ENV = "XRDEPLOY_TERRAFORM_HOME"


def process_settings() -> dict[str, str]:
    """What every terraform we start gets, and a shell set up by `terraform-env`: no checkpoint
    call, and the GOGC above unless one is set already."""
    return {**NO_CHECKPOINT, "GOGC": os.environ.get("GOGC", GOGC_DEFAULT)}


def terraform_home() -> Path:
    """Where the CLI config, the plugin cache and the init lock live."""
    override = os.environ.get(TERRAFORM_HOME_ENV)
    return Path(override) if override else STATE_HOME


def plugin_cache(home: Path | None = None) -> Path:
    """Terraform's plugin cache under `home` (default: terraform_home())."""
    return (home or terraform_home()) / "plugin-cache"


def cached_provider_dir(home: Path | None = None) -> Path:
    """Where the plugin cache keeps the pinned AWS provider (one directory per platform)."""
    return plugin_cache(home) / AWS_PROVIDER_ADDRESS / AWS_PROVIDER_VERSION


def provider_cached() -> bool:
    """Whether the plugin cache holds the pinned AWS provider (complete: it is only looked at
    under the init lock, and the init that fills it holds that lock until it is done)."""
    return any(cached_provider_dir().glob("*/terraform-provider-aws_*"))


def find_provider_mirror(explicit: str | None = None) -> Path | None:
    """A filesystem mirror directory that holds the pinned AWS provider, if any."""
    candidates = [Path(explicit)] if explicit else list(MIRROR_CANDIDATES)
    for root in candidates:
        if (root / AWS_PROVIDER_ADDRESS / AWS_PROVIDER_VERSION).is_dir():
            return root
    return None


def cli_config_text(mirror: Path | None, plugin_cache: Path) -> str:
    lines = [f'plugin_cache_dir = "{plugin_cache}"']
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            f'    include = ["{AWS_PROVIDER_ADDRESS}"]',
            "  }",
            "  direct {",
            f'    exclude = ["{AWS_PROVIDER_ADDRESS}"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def write_cli_config(home: Path | None = None) -> Path:
    """Write (atomically) the CLI config every Terraform run of ours uses."""
    home = home or terraform_home()
    cache = plugin_cache(home)
    cache.mkdir(parents=True, exist_ok=True)
    path = home / "terraform.rc"
    mirror = find_provider_mirror(os.environ.get("XRDEPLOY_PROVIDER_MIRROR"))
    text = cli_config_text(mirror, cache)
    if path.exists() and path.read_text() == text:
        return path
    # A temporary file of its own per writer: several Terraform runs may start at once.
    with tempfile.NamedTemporaryFile("w", dir=home, prefix=".terraform.rc.", delete=False) as f:
        f.write(text)
    Path(f.name).replace(path)
    return path


def describe_provider_source() -> str:
    """Where our CLI config makes Terraform take the AWS provider from, in one line."""
    mirror = find_provider_mirror(os.environ.get("XRDEPLOY_PROVIDER_MIRROR"))
    where = f"the filesystem mirror {mirror}" if mirror else "the public registry (no mirror)"
    return f"AWS provider {AWS_PROVIDER_VERSION} from {where}"


def terraform_env(home: Path | None = None) -> dict[str, str]:
    """What a shell needs so the cdktf CLI and plain Terraform use our CLI config (the mirror
    when there is one), our plugin cache and our process settings. The cdktf CLI sets
    TF_PLUGIN_CACHE_DIR to a cache of its own unless it is set, and the variable wins over the
    config's plugin_cache_dir."""
    home = home or terraform_home()
    return {
        "TF_CLI_CONFIG_FILE": str(write_cli_config(home)),
        "TF_PLUGIN_CACHE_DIR": str(plugin_cache(home)),
        **process_settings(),
    }


@dataclass
class Terraform:
    """Runs terraform in one stack directory; every failure raises ToolError with one line."""

    directory: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    binary: str = "terraform"

    def __post_init__(self) -> None:
        if shutil.which(self.binary) is None:
            raise ToolError(
                "terraform: not found on PATH; install Terraform >= 1.10 "
                "(https://developer.hashicorp.com/terraform/install)"
            )

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TF_CLI_CONFIG_FILE"] = str(write_cli_config())
        env["TF_IN_AUTOMATION"] = "1"
        env["TF_INPUT"] = "0"
        env.update(process_settings())
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, check: bool = True, on_line: Callable[[str], None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run terraform; `on_line` sees each stdout line as it comes (progress on long work)."""
        command = [self.binary, *args, "-no-color"]
        if on_line is None:
            result = subprocess.run(
                command,
                cwd=self.directory,
                env=self._env(),
                capture_output=True,
                text=True,
                check=False,
            )
        else:
            result = self._streamed(command, on_line)
        if check and result.returncode != 0:
            raise ToolError(
                f"terraform {args[0]} in {self.directory.name}: "
                f"{first_error(result.stderr or result.stdout)}"
            )
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start terraform without waiting (for callers that watch or interrupt it)."""
        return subprocess.Popen(
            [self.binary, *args, "-no-color"],
            cwd=self.directory,
            env=self._env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def _streamed(
        self, command: list[str], on_line: Callable[[str], None]
    ) -> subprocess.CompletedProcess[str]:
        with subprocess.Popen(
            command,
            cwd=self.directory,
            env=self._env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            lines = []
            for line in process.stdout:
                lines.append(line)
                on_line(line.rstrip("\n"))
            stderr = process.stderr.read()
        return subprocess.CompletedProcess(command, process.returncode, "".join(lines), stderr)

    def init(self, backend: bool = True) -> None:
        args = ("init", "-input=false", f"-backend={'true' if backend else 'false'}")
        # Terraform's plugin cache is not safe for concurrent installs: the init that puts the
        # provider there runs alone, across threads and processes. Once it is there, an init
        # only verifies and links it, so the inits of stacks created at once run side by side.
        with _INIT_LOCK, file_lock(terraform_home() / "init.lock"):
            cached = provider_cached()
            if not cached:
                self.run(*args)
        if cached:
            self.run(*args)

    def validate(self) -> dict[str, object]:
        result = self.run("validate", "-json", check=False)
        report: dict[str, object] = json.loads(result.stdout)
        return report

    def plan(self, plan_file: str | None = None) -> int:
        """Exit code per -detailed-exitcode: 0 no changes, 2 changes."""
        args = ["plan", "-input=false", "-detailed-exitcode", "-lock-timeout=30s"]
        if plan_file:
            args.append(f"-out={plan_file}")
        result = self.run(*args, check=False)
        if result.returncode not in (0, 2):
            raise ToolError(
                f"terraform plan in {self.directory.name}: "
                f"{first_error(result.stderr or result.stdout)}"
            )
        return result.returncode

    def show_json(self, plan_file: str) -> dict[str, object]:
        shown: dict[str, object] = json.loads(self.run("show", "-json", plan_file).stdout)
        return shown

    def apply(self, on_line: Callable[[str], None] | None = None) -> str:
        """Returns Terraform's output, which ends with what the apply did."""
        args = ("apply", "-input=false", "-auto-approve", "-lock-timeout=30s")
        return self.run(*args, on_line=on_line).stdout

    def destroy(self, on_line: Callable[[str], None] | None = None) -> None:
        self.run("destroy", "-input=false", "-auto-approve", "-lock-timeout=30s", on_line=on_line)

    def outputs(self) -> dict[str, object]:
        raw: dict[str, dict[str, object]] = json.loads(self.run("output", "-json").stdout)
        return {name: entry["value"] for name, entry in raw.items()}


def first_error(output: str) -> str:
    """Terraform's first error as one line: its summary and the first line of its detail
    (skipping the "with provider..."/"on file line N" context lines)."""
    lines = [line.strip(" │╷╵") for line in output.splitlines()]
    for index, line in enumerate(lines):
        if not line.startswith("Error:"):
            continue
        summary = line.removeprefix("Error:").strip().rstrip(":")
        for following in lines[index + 1 :]:
            if following.startswith("Error:"):
                break
            context = following.startswith(("with ", "on ")) or following[:1].isdigit()
            if following and not context:
                return f"{summary}: {following}"
        return summary
    stripped = [line for line in lines if line]
    return stripped[-1] if stripped else "failed with no output"
