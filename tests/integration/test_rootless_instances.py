"""Local instances when LocalStack runs as a normal user (issue 21, "Local instances without
root"): an unprivileged user, created for the test with the subordinate ids ``useradd`` grants,
starts an instance through the instance host on LocalStack's interpreter. Its hooks write
``/etc``, ``/usr`` and ``/var`` inside the instance and nothing reaches the host; ``ec2-user`` and
a user made with ``useradd`` are real users there; stopping leaves nothing behind.

Run as root (as here), the test creates the user and runs the host as that user; run as a normal
user (a CI runner), it runs the host as itself, which is the same case.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from emulator.launcher import ensure_environment

pytestmark = pytest.mark.integration

PLUGIN_SOURCES = Path(__file__).resolve().parents[2] / "emulator" / "plugins" / "src"
HOOK = """
mkdir -p /etc/xrdeploy-rootless /usr/local/xrdeploy-rootless /var/www/xrdeploy-rootless
echo etc > /etc/xrdeploy-rootless/conf
echo usr > /usr/local/xrdeploy-rootless/bin
echo var > /var/www/xrdeploy-rootless/index.html
sed -i 's/^/# /' /etc/hosts
useradd -m appuser
stat -c %U:%a /etc/xrdeploy-rootless/conf
"""
WRITTEN = ("/etc/xrdeploy-rootless", "/usr/local/xrdeploy-rootless", "/var/www/xrdeploy-rootless")
# Runs on LocalStack's interpreter as the unprivileged user; prints one JSON object.
SCRIPT = """
import json, os, sys
from pathlib import Path
from xrdeploy_local_cloud.instances.host import InstanceHost, InstanceSpec

root = Path(sys.argv[1])
host = InstanceHost(root)
answer = {"uid": os.geteuid(), "reason": host.unsupported_reason()}
spec = InstanceSpec("i-0rootless000000", "111111111111", "us-west-2", "us-west-2a", "10.0.0.7",
                    "t3.micro", "ami-0rootless", {}, None)
instance = host.instance(spec)
def run(script, user="root"):
    result = instance.run(["/bin/bash", "-c", script], env={}, cwd="/", timeout=60, user=user)
    return [result.exit_code, result.output]
answer["root"] = run("set -e\\n" + sys.argv[2])
answer["ec2-user"] = run("id -un; echo no >> /etc/xrdeploy-rootless/conf", "ec2-user")
answer["appuser"] = run("id -un; touch ~/mine && stat -c %U ~/mine", "appuser")
answer["hosts"] = instance.read_file("/etc/hosts").decode()
host.stop_all()
answer["left"] = sorted(os.listdir(root))
print(json.dumps(answer))
"""


def _python_for(user: str | None, work: Path) -> tuple[Path, dict[str, str]]:
    """A Python 3.13 that ``user`` can run, with the plugin importable under ``-I``, and the
    environment it needs. LocalStack's venv is built on an interpreter that may live where the
    user cannot read (here: root's pyenv); then a copy of it is made readable in ``work``."""
    venv_python = ensure_environment() / "bin" / "python"
    base = Path(
        subprocess.run(
            [str(venv_python), "-c", "import sys; print(sys.base_prefix)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"}
    readable = user is None or _runs(user, [str(base / "bin" / "python3.13"), "-c", "pass"])
    if not readable:
        shutil.copytree(base, work / "python", symlinks=True)
        base = work / "python"
        env["LD_LIBRARY_PATH"] = str(base / "lib")  # libpython of the copy, not the original
    venv = work / "venv"
    subprocess.run(
        [str(base / "bin" / "python3.13"), "-m", "venv", "--without-pip", str(venv)],
        env=env,
        check=True,
    )
    site = next((venv / "lib").glob("python3.*/site-packages"))
    localstack_site = next((venv_python.parent.parent / "lib").glob("python3.*/site-packages"))
    # The sources under test first, then LocalStack's dependencies (PyYAML).
    (site / "xrdeploy-under-test.pth").write_text(f"{PLUGIN_SOURCES}\n{localstack_site}\n")
    return venv / "bin" / "python", env


def _runs(user: str, command: list[str]) -> bool:
    probe = subprocess.run(
        ["runuser", "-u", user, "--", *command], capture_output=True, check=False
    )
    return probe.returncode == 0


def test_hooks_write_etc_usr_and_var_inside_a_rootless_instance_only(
    unprivileged_user: str | None,
) -> None:
    # GIVEN an unprivileged user with subordinate ids, and LocalStack's Python it can run
    work = Path(tempfile.mkdtemp(prefix="xrdeploy-rootless-"))
    try:
        work.chmod(0o755)
        python, env = _python_for(unprivileged_user, work)
        state = work / "instances"
        state.mkdir()
        prefix = ["runuser", "-u", unprivileged_user, "--"] if unprivileged_user else []
        if unprivileged_user:
            shutil.chown(state, unprivileged_user, unprivileged_user)
        # WHEN, as that user, an instance starts and its hooks run as root, ec2-user and a user
        # the hook created
        command = [*prefix, "env", *(f"{k}={v}" for k, v in env.items()), str(python)]
        result = subprocess.run(
            [*command, "-c", SCRIPT, str(state), HOOK],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd="/",
        )
        assert result.returncode == 0, result.stderr[-3000:]
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # THEN it ran rootless and the host could run it
    assert answer["uid"] != 0
    assert answer["reason"] is None
    # AND root wrote /etc, /usr and /var and edited /etc/hosts inside, files root's there
    assert answer["root"] == [0, "root:644\n"], answer["root"]
    assert answer["hosts"].startswith("# ")
    # AND ec2-user may not write root's file, and the user the hook created owns its files
    assert answer["ec2-user"][0] == 1
    assert answer["ec2-user"][1].splitlines() == [
        "ec2-user",
        "/bin/bash: line 1: /etc/xrdeploy-rootless/conf: Permission denied",
    ]
    assert answer["appuser"] == [0, "appuser\nappuser\n"]
    # AND nothing reached the host, and stopping left nothing behind
    assert not any(Path(path).exists() for path in WRITTEN)
    assert not Path("/etc/hosts").read_text().startswith("# ")
    assert answer["left"] == []
