"""`make container-test`: build the local cloud's image with podman, start it the way
docker-compose.localstack.yml does, run the demo of a one-stage chain against it through
LOCALSTACK_ENDPOINT, and check that a local instance inside the container sees the container's
whole /etc.

Podman here needs runc, vfs storage and explicit ulimits (crun cannot set RLIMIT_NOFILE on these
hosts); no registry is reachable, so the Debian trixie base is built offline with mmdebstrap
(a Docker user's build pulls debian:trixie-slim instead). Steps print one line each; a failure is
one line and exit 1; the container is removed whatever happens.

Stdlib only: runs with the project's venv (`make container-test`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
CONTEXT = REPO / "emulator"
CONTAINERFILE = CONTEXT / "container" / "Containerfile"
IMAGE = "localhost/xrdeploy-local-cloud"
OFFLINE_BASE = "localhost/xrdeploy-base:trixie"
# Where a registry is reachable (e.g. GitHub's runners): XRDEPLOY_CONTAINER_BASE=debian:trixie-slim.
BASE_ENV = "XRDEPLOY_CONTAINER_BASE"
BASE_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
CONTAINER = "xrdeploy-local-cloud-test"
# The digest of what the image was built from (build_inputs), kept on the image itself.
INPUTS_LABEL = "org.xrdeploy.build-inputs"
# One stage: what is under test is the container (the local cloud, its instances and their pages
# inside it); promotion across stages, accounts and regions is the integration tier's, on the host.
DEMO_CONFIG = REPO / "tests" / "configs" / "one_stage.yaml"
PODMAN = ("podman", "--storage-driver", "vfs", "--runtime", "runc")
ULIMITS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768")
# The host's CA bundle, mounted into the build so pip and npm trust what the host trusts (a
# TLS-inspecting proxy's CA, as on this project's machines). Mounted as a local CA, which the
# image's ca-certificates adds to its own bundle when it installs, not over that bundle: its
# post-install script replaces the bundle's file, which a mount pins ("Device or resource busy").
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_TRUST_IN_BUILD = "/usr/local/share/ca-certificates/xrdeploy-host-trust.crt"
HEALTH_TIMEOUT_SECONDS = 120.0
# Lists the /etc of the newest local instance (its holder is in a mount namespace of its own);
# the brackets keep the pattern from matching this script's own shells.
LIST_INSTANCE_ETC = """
for pid in $(pgrep -f 'xrdeploy_local_cloud[.]instances[.]holder' | sort -rn); do
  namespace=$(readlink "/proc/$pid/ns/mnt") || continue
  if [ "$namespace" != "$(readlink /proc/self/ns/mnt)" ]; then
    exec nsenter --target "$pid" --mount --root ls -A /etc
  fi
done
echo "no local instance is running in the container" >&2
exit 1
"""


class ContainerTestError(Exception):
    """One line saying which step failed."""


def step(message: str) -> None:
    sys.stderr.write(f"[container-test] {message}\n")
    sys.stderr.flush()


def run(command: Sequence[str], what: str) -> str:
    result = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ContainerTestError(f"{what} failed (exit {result.returncode}): {last[0]}")
    return str(result.stdout)


def require(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        raise ContainerTestError(f"`{tool}` is not installed: apt-get install {package}")


def ensure_base() -> str:
    """The base image to build on: $XRDEPLOY_CONTAINER_BASE, else one built offline."""
    if os.environ.get(BASE_ENV):
        return os.environ[BASE_ENV]
    present = subprocess.run([*PODMAN, "image", "exists", OFFLINE_BASE], check=False)
    if present.returncode == 0:
        return OFFLINE_BASE
    require("mmdebstrap", "mmdebstrap")
    step(f"building the base {OFFLINE_BASE} with mmdebstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="xrdeploy-base-") as scratch:
        tarball = Path(scratch) / "rootfs.tar"
        run(
            ["mmdebstrap", "--variant=minbase", BASE_SUITE, str(tarball), DEBIAN_MIRROR],
            "mmdebstrap",
        )
        run([*PODMAN, "import", str(tarball), OFFLINE_BASE], "podman import")
    return OFFLINE_BASE


def ignored(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """Whether .dockerignore's `patterns` leave the file at `relative` out of the build context.
    Only the forms the file uses are read (a path, and `**/` before a name); anything else, and
    any `!` exception, leaves files in: a file wrongly counted only costs a rebuild."""
    if any(pattern.startswith("!") for pattern in patterns):
        return False
    parts = relative.parts
    for pattern in patterns:
        if pattern.startswith("**/") and "/" not in pattern[3:]:
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts):
                return True
        elif "**" not in pattern:
            wanted = PurePosixPath(pattern).parts
            if len(parts) >= len(wanted) and all(
                fnmatch.fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=False)
            ):
                return True
    return False


def dockerignore_patterns(context: Path) -> list[str]:
    ignore_file = context / ".dockerignore"
    return [
        line.strip().rstrip("/")
        for line in (ignore_file.read_text().splitlines() if ignore_file.exists() else [])
        if line.strip() and not line.startswith("#")
    ]


def build_inputs(context: Path, base: str, base_id: str) -> str:
    """A digest of everything the image is built from: every file of the build context (path,
    mode and content; .dockerignore's exclusions left out), the base's name and image id."""
    patterns = dockerignore_patterns(context)
    digest = hashlib.sha256(f"{base}\0{base_id}\0".encode())
    for path in sorted(context.rglob("*")):
        relative = PurePosixPath(path.relative_to(context).as_posix())
        if ignored(relative, patterns) or (path.is_dir() and not path.is_symlink()):
            continue
        if path.is_symlink():
            digest.update(f"{relative}\0->{path.readlink()}\0".encode())
            continue
        digest.update(f"{relative}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_image(base: str) -> None:
    inputs = build_inputs(CONTEXT, base, image_id(base))
    if image_label(IMAGE, INPUTS_LABEL) == inputs:
        # podman's own cache check copies the whole image once per step with vfs storage:
        # minutes, even when every step is cached.
        step(f"{IMAGE} is up to date (its inputs' digest {inputs[:12]} is unchanged)")
        return
    step(f"building {IMAGE} from {CONTAINERFILE.relative_to(REPO)} (minutes the first time)")
    mounts = ["-v", f"{HOST_CA_BUNDLE}:{HOST_TRUST_IN_BUILD}:ro"] if HOST_CA_BUNDLE.exists() else []
    started = time.monotonic()
    previous = image_id()
    source = ["-f", str(CONTAINERFILE), "-t", IMAGE, str(CONTEXT)]
    label = ["--label", f"{INPUTS_LABEL}={inputs}"]
    arguments = [*mounts, *ULIMITS, *label, "--build-arg", f"BASE={base}", *source]
    run([*PODMAN, "build", *arguments], "build")
    step(f"image built in {time.monotonic() - started:.0f} s")
    if previous and previous != image_id():
        # The image this build replaced, untagged now: with vfs storage each is a gigabyte or
        # more on disk, and every change to the sources would leave one behind.
        subprocess.run([*PODMAN, "rmi", previous], capture_output=True, check=False)


def image_id(image: str = IMAGE) -> str:
    return inspect_image(image, "{{.Id}}")


def image_label(image: str, label: str) -> str:
    return inspect_image(image, f'{{{{index .Labels "{label}"}}}}')


def inspect_image(image: str, template: str) -> str:
    """`podman image inspect --format template`, or "" when there is no such image."""
    result = subprocess.run(
        [*PODMAN, "image", "inspect", "--format", template, image],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_container(port: int) -> str:
    """Start the image as the compose file does; returns the endpoint once it is healthy."""
    step(f"starting {CONTAINER} (privileged, host network) on port {port}")
    grants = ["--privileged", "--network", "host", *ULIMITS]
    run(
        [*PODMAN, "run", "-d", "--name", CONTAINER, *grants, "-e", f"XRDEPLOY_PORT={port}", IMAGE],
        "run",
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2):
                step(f"local cloud healthy at {endpoint}")
                return endpoint
        except OSError:
            time.sleep(1)
    logs = run([*PODMAN, "logs", CONTAINER], "podman logs").strip().splitlines()[-1:]
    raise ContainerTestError(
        f"the container's local cloud did not answer in {HEALTH_TIMEOUT_SECONDS:.0f} s: {logs}"
    )


def run_demo(endpoint: str) -> None:
    step(f"running `python main.py demo --config {DEMO_CONFIG.relative_to(REPO)}` against it")
    env = {**os.environ, "LOCALSTACK_ENDPOINT": endpoint}
    demo = subprocess.run(
        [
            sys.executable,
            str(REPO / "main.py"),
            "demo",
            "--config",
            str(DEMO_CONFIG),
            "--approve",
            "--keep",
        ],
        cwd=REPO,
        env=env,
        check=False,
    )
    if demo.returncode != 0:
        raise ContainerTestError(f"the demo against the container exited {demo.returncode}")


def check_instance_etc() -> None:
    container_etc = set(run([*PODMAN, "exec", CONTAINER, "ls", "-A", "/etc"], "ls /etc").split())
    listed = run([*PODMAN, "exec", CONTAINER, "sh", "-c", LIST_INSTANCE_ETC], "listing /etc")
    missing = sorted(container_etc - set(listed.split()))
    if missing:
        raise ContainerTestError(
            f"a local instance's /etc lacks {len(missing)} of the container's "
            f"{len(container_etc)} entries: {', '.join(missing[:8])}"
        )
    step(f"a local instance lists the container's whole /etc ({len(container_etc)} entries)")


def remove_container() -> None:
    subprocess.run([*PODMAN, "rm", "-f", "-t", "5", CONTAINER], capture_output=True, check=False)


def main() -> int:
    try:
        require("podman", "podman runc")
        require("runc", "runc")
        build_image(ensure_base())
        remove_container()
        try:
            run_demo(start_container(free_port()))
            check_instance_etc()
        finally:
            remove_container()
    except ContainerTestError as error:
        sys.stderr.write(f"container-test: {error}\n")
        return 1
    step("passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
