"""Regenerate the committed provider lock file (terraform/.terraform.lock.hcl) after a provider
bump, or add a mirror's hashes to it.

    .venv/bin/python -m tools.lock_providers                  # online: the public registry
    .venv/bin/python -m tools.lock_providers --fs-mirror DIR  # offline: an unpacked mirror

Online, `terraform providers lock` records the registry's `zh:` hash of every platform's zip (from
the release's signed SHA256SUMS) and the `h1:` hash of each platform asked for (PLATFORMS). With
`--fs-mirror` it can only hash what the mirror holds (here: linux_amd64, unpacked, so one `h1:`).
Both merge into the existing file for the same version; a new version replaces the entry. The
version comes from xrdeploy.terraform.command.AWS_PROVIDER_VERSION, which must equal what the pinned
binding (cdktf-cdktf-provider-aws in the Pipfile) was generated for (tests/unit/test_lockfile.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from xrdeploy.terraform.command import (
    AWS_PROVIDER_ADDRESS,
    AWS_PROVIDER_VERSION,
    PROVIDER_LOCK_FILE,
    process_settings,
)

# Where the team runs Terraform: CI and servers (linux), laptops (darwin), on both architectures.
PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64")


def _mirror_platforms(mirror: Path) -> list[str]:
    version_dir = mirror / AWS_PROVIDER_ADDRESS / AWS_PROVIDER_VERSION
    return (
        sorted(p.name for p in version_dir.iterdir() if p.is_dir()) if version_dir.is_dir() else []
    )


def lock(fs_mirror: Path | None) -> Path:
    """Run `terraform providers lock` on a configuration that only requires the AWS provider,
    starting from the committed lock file; returns the file written."""
    platforms = list(PLATFORMS)
    if fs_mirror is not None:
        platforms = _mirror_platforms(fs_mirror)
        if not platforms:
            raise SystemExit(
                f"error: {fs_mirror} holds no {AWS_PROVIDER_ADDRESS} {AWS_PROVIDER_VERSION}"
            )
    with tempfile.TemporaryDirectory(prefix="xrdeploy-lock-") as scratch:
        work = Path(scratch)
        required = {"aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}}
        config = {"terraform": {"required_providers": required}}
        (work / "versions.tf.json").write_text(json.dumps(config, indent=2))
        if PROVIDER_LOCK_FILE.exists():
            shutil.copyfile(PROVIDER_LOCK_FILE, work / ".terraform.lock.hcl")
        command = ["terraform", "providers", "lock", "-no-color"]
        command += [f"-platform={p}" for p in platforms]
        if fs_mirror is not None:
            command.append(f"-fs-mirror={fs_mirror}")
        env = {**os.environ, **process_settings()}
        result = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise SystemExit(f"error: terraform providers lock failed: {' '.join(last)}")
        PROVIDER_LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / ".terraform.lock.hcl", PROVIDER_LOCK_FILE)
    return PROVIDER_LOCK_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fs-mirror", type=Path, help="hash an unpacked provider mirror instead of the registry"
    )
    args = parser.parse_args(argv)
    written = lock(args.fs_mirror)
    sys.stdout.write(f"wrote {written}; review the diff and commit it\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
