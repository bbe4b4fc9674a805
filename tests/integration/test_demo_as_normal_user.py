"""The README's main command as a normal user (issue 21): a fresh clone, Debian's system Python
(`/usr/bin/python3`, externally managed), `make demo` doing all its own set-up, LocalStack and
its local instances running as that user, every page served, and what the sample app's hooks
write into `/etc`, `/usr` and `/var` landing inside the instances only.

Run as root (as in this project's CI), the test creates the user (`useradd` gives it subordinate
ids) and gives it a Python 3.13 of its own, as pyenv would: a copy of the one LocalStack's venv is
built on, its library path made relative so it runs from anywhere. Run as a normal user (a CI
runner), it is that user and uses its own Python 3.13. The user's pip and npm caches start empty:
this is the slowest test of the suite (minutes of downloads and venv builds).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.venv import find_python313
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

SYSTEM_PYTHON = Path("/usr/bin/python3")
# What the sample app's hooks write (appspec.yml, scripts/, the dnf stand-in's httpd).
HOOK_WRITES = (
    Path("/etc/httpd/conf.d/xrdeploy-sample.conf"),
    Path("/usr/sbin/httpd"),
    Path("/usr/lib/systemd/system/httpd.service"),
    Path("/var/www/xrdeploy-sample"),
)
# Certificates and proxies the machine's tools need, passed on as a login shell would have them.
PASSED_ENV = (
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
)
DEMO_TIMEOUT_SECONDS = 1800


def _relative_runpath(binary: Path, old: Path) -> None:
    """Point ``binary``'s RUNPATH at ``$ORIGIN/../lib`` (a shorter string, written in place and
    padded), so the copy finds its own libpython with no LD_LIBRARY_PATH — the local instances
    run their agent with a clean environment."""
    data = binary.read_bytes()
    before = str(old).encode() + b"\0"
    after = b"$ORIGIN/../lib"
    assert before in data and len(after) < len(before), f"{binary} has no RUNPATH {old}"
    binary.write_bytes(data.replace(before, after.ljust(len(before), b"\0")))


def _own_python(user: str, home: Path) -> Path:
    """A Python 3.13 in ``user``'s home, owned by it."""
    base = find_python313().resolve().parent.parent
    copy = home / ".local" / "python3.13"
    shutil.copytree(base, copy, symlinks=True)
    binary = copy / "bin" / "python3.13"
    if b"$ORIGIN" not in binary.read_bytes():
        _relative_runpath(binary, base / "lib")
    subprocess.run(["chown", "-R", f"{user}:{user}", str(home / ".local")], check=True)
    return binary


@pytest.fixture
def demo_user(unprivileged_user: str | None) -> Iterator[tuple[list[str], Path, Path]]:
    """(the prefix that runs a command as the user, its home, its Python 3.13)."""
    if unprivileged_user is None:
        home = Path(tempfile.mkdtemp(prefix="xrdeploy-normal-user-"))
        try:
            yield [], home, find_python313()
        finally:
            shutil.rmtree(home, ignore_errors=True)
        return
    home = Path(f"/home/{unprivileged_user}")
    yield ["runuser", "-u", unprivileged_user, "--"], home, _own_python(unprivileged_user, home)


def _state(paths: tuple[Path, ...]) -> list[tuple[bool, float]]:
    return [(p.exists(), p.stat().st_mtime if p.exists() else 0.0) for p in paths]


def test_a_normal_user_runs_the_demo_from_a_fresh_clone_with_the_system_python(
    demo_user: tuple[list[str], Path, Path],
) -> None:
    # GIVEN a normal user with a fresh clone and nothing built, and the host's hook paths as now
    as_user, home, python313 = demo_user
    clone = home / "xrdeploy"
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "XRDEPLOY_PYTHON313": str(python313),
        **{name: os.environ[name] for name in PASSED_ENV if name in os.environ},
    }
    run_as_user = [*as_user, "env", "-i", *(f"{k}={v}" for k, v in env.items())]
    # The checkout being tested belongs to another user: git clones it once told it is safe.
    for path in (REPO_ROOT, REPO_ROOT / ".git"):  # upload-pack checks the .git directory
        trust = ["git", "config", "--global", "--add", "safe.directory", str(path)]
        subprocess.run([*run_as_user, *trust], check=True, cwd="/")
    clone_it = ["git", "clone", "--quiet", str(REPO_ROOT), str(clone)]
    subprocess.run([*run_as_user, *clone_it], check=True, cwd="/")
    host_before = _state(HOOK_WRITES)
    # WHEN, as that user, the README's main command runs with the system Python
    demo = subprocess.run(
        [
            *run_as_user,
            "make",
            "-C",
            str(clone),
            "demo",
            "DEMO_ARGS=--approve",
            f"PYTHON={SYSTEM_PYTHON}",
        ],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SECONDS,
        check=False,
        cwd="/",
    )
    output = demo.stdout + demo.stderr
    # THEN it passes, every stage's page is served by its instance
    assert demo.returncode == 0, output[-4000:]
    assert "done: the build passed every stage" in output
    pages = [line for line in output.splitlines() if line.startswith("page of ")]
    assert len(pages) >= 3, output[-4000:]
    assert all("→ version" in line for line in pages), pages
    # AND what the hooks wrote into /etc, /usr and /var stayed inside the instances
    assert _state(HOOK_WRITES) == host_before
