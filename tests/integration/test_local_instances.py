"""Local EC2 instances (``emulator/plugins/.../instances``): the sandbox CodeDeploy deploys into.

The instance host runs inside LocalStack's Python (3.13), so the tests drive it from a small
driver process on LocalStack's venv interpreter, through the same interface the CodeDeploy
engine uses (``InstanceHost.instance(spec)``, ``run``, ``write_file``, ``read_file``,
``page_url``); the page is fetched from this process, as a user would. The sample app's hooks run
exactly as they are in ``sample_app/``, in the agent's order, with the agent's environment. The
last test starts LocalStack itself, for what it says at start and on ``GET /_xrdeploy/instances``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.launcher import LocalStackServer, ensure_environment, localstack_home

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_APP = REPO_ROOT / "sample_app"
DEPLOYMENT_ROOT = "/opt/codedeploy-agent/deployment-root"
GROUP_ID = "0f3c8d2e-5b7a-4c1d-9e2f-1a2b3c4d5e6f"
DEPLOYMENT_ID = "d-LOCAL0001"
# How long a timed-out command has after SIGTERM before SIGKILL (the local instances' control,
# emulator/plugins/src/xrdeploy_local_cloud/instances/control.py).
KILL_GRACE_SECONDS = 5.0
SPEC = {
    "instance_id": "i-0a1b2c3d4e5f60718",
    "account_id": "111111111111",
    "region": "us-west-2",
    "availability_zone": "us-west-2a",
    "private_ip": "10.0.1.23",
    "instance_type": "t3.micro",
    "image_id": "ami-0123456789abcdef0",
    "tags": {"Name": "xrdeploy-demo-alpha-0", "Stage": "alpha", "DeploymentStage": "alpha"},
    "iam_role_name": None,
}

# Runs on LocalStack's interpreter: one JSON request per stdin line, one JSON answer per line.
DRIVER = """
import base64, json, os, sys
from pathlib import Path
from xrdeploy_local_cloud.instances.host import InstanceError, InstanceHost, InstanceSpec

host = InstanceHost(Path(sys.argv[1]))
instance = None
for line in sys.stdin:
    request = json.loads(line)
    op = request.pop("op")
    try:
        if op == "pretend_uid":
            os.geteuid = lambda uid=request["uid"]: uid
            answer = {}
        elif op == "reason":
            answer = {"reason": host.unsupported_reason()}
        elif op == "start":
            instance = host.instance(InstanceSpec(**request))
            answer = {"page_url": instance.page_url, "state_dir": str(instance.state_dir)}
        elif op == "run":
            result = instance.run(**request)
            answer = {"exit_code": result.exit_code, "output": result.output,
                      "timed_out": result.timed_out}
        elif op == "write_file":
            instance.write_file(request["path"], base64.b64decode(request["data"]), request["mode"])
            answer = {}
        elif op == "read_file":
            answer = {"data": base64.b64encode(instance.read_file(request["path"])).decode()}
        elif op == "stop":
            host.stop_all()
            answer = {"state": instance.state}
    except (InstanceError, FileNotFoundError) as error:
        answer = {"error": type(error).__name__, "message": str(error)}
    print(json.dumps(answer), flush=True)
"""


class DriverError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Driver:
    """The instance host in a LocalStack-interpreter process, one instance at a time."""

    def __init__(self, state_root: Path, env: Mapping[str, str] | None = None) -> None:
        # One script per driver: a test's drivers share a parent, and rewriting a script another
        # driver's interpreter is still reading lets that one start from an empty file.
        script = state_root.parent / f"{state_root.name}-driver.py"
        script.write_text(DRIVER)
        python = ensure_environment() / "bin" / "python"
        self.process = subprocess.Popen(
            [str(python), str(script), str(state_root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else None,
        )
        self.page_url = ""

    def call(self, op: str, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **request}) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise DriverError(answer["error"], answer["message"])
        return answer

    def run(self, argv: list[str], *, timeout: float = 60, cwd: str = "/", **env: str) -> Any:
        return self.call("run", argv=argv, env=env, cwd=cwd, timeout=timeout)

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        import base64

        self.call("write_file", path=path, data=base64.b64encode(data).decode(), mode=mode)

    def read_file(self, path: str) -> bytes:
        import base64

        return base64.b64decode(self.call("read_file", path=path)["data"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture
def state_root(tmp_path: Path) -> Path:
    return tmp_path / "instances"


@pytest.fixture
def instance(state_root: Path) -> Iterator[Driver]:
    driver = Driver(state_root)
    try:
        driver.page_url = driver.call("start", **SPEC)["page_url"]
        yield driver
    finally:
        driver.call("stop")
        driver.close()


def _fetch(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.status, response.read().decode()


def _unpack_sample_app(instance: Driver) -> str:
    """The agent's DownloadBundle: the revision, modes kept, in the deployment archive."""
    archive = f"{DEPLOYMENT_ROOT}/{GROUP_ID}/{DEPLOYMENT_ID}/deployment-archive"
    for path in sorted(SAMPLE_APP.rglob("*")):
        if path.is_file():
            mode = stat.S_IMODE(path.stat().st_mode)
            instance.write_file(
                f"{archive}/{path.relative_to(SAMPLE_APP)}", path.read_bytes(), mode
            )
    return archive


def _install_files(instance: Driver, appspec: Mapping[str, Any]) -> None:
    """The agent's Install: each ``files`` source copied under its destination."""
    for entry in appspec["files"]:
        source = SAMPLE_APP / entry["source"]
        sources = (
            sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        )
        for path in sources:
            relative = path.relative_to(source) if source.is_dir() else Path(path.name)
            instance.write_file(f"{entry['destination']}/{relative}", path.read_bytes())


def test_sample_app_hooks_run_unmodified_and_the_page_shows_the_instance_metadata(
    instance: Driver,
) -> None:
    # GIVEN the sample app unpacked in the instance as the agent does
    appspec = yaml.safe_load((SAMPLE_APP / "appspec.yml").read_text())
    archive = _unpack_sample_app(instance)
    environment = {
        "DEPLOYMENT_ID": DEPLOYMENT_ID,
        "APPLICATION_NAME": "xrdeploy-demo-alpha",
        "DEPLOYMENT_GROUP_NAME": "xrdeploy-demo-alpha-fleet",
        "DEPLOYMENT_GROUP_ID": GROUP_ID,
    }
    # WHEN its hooks run in the agent's order, with Install copying the files in between
    for event in (
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    ):
        if event == "Install":
            _install_files(instance, appspec)
            continue
        for script in appspec["hooks"][event]:
            result = instance.run(
                [f"{archive}/{script['location']}"],
                cwd=archive,
                timeout=script["timeout"],
                LIFECYCLE_EVENT=event,
                **environment,
            )
            # THEN each one succeeds
            assert (event, result["exit_code"], result["timed_out"]) == (event, 0, False), result
    # AND the page is served on the host, with the version, and the stage and region the
    # instance's metadata service gave the hook
    status, page = _fetch(instance.page_url)
    version = (SAMPLE_APP / "VERSION").read_text().strip()
    assert status == 200
    assert f'<strong id="version">{version}</strong>' in page
    assert "alpha" in page and "us-west-2" in page and DEPLOYMENT_ID in page
    # AND the stand-ins recorded what the hooks asked of them
    assert json.loads(instance.read_file("/var/lib/xrdeploy-standins/dnf/installed.json")) == {
        "httpd": "2.4.62-1.amzn2023"
    }
    enabled = instance.run(["systemctl", "is-enabled", "httpd"])
    active = instance.run(["systemctl", "is-active", "httpd"])
    assert (enabled["output"], active["output"]) == ("enabled\n", "active\n")


def test_metadata_service_requires_imdsv2_tokens(instance: Driver) -> None:
    # GIVEN the instance's metadata service
    url = "http://169.254.169.254/latest"
    # WHEN it is asked without a token, for a token with a bad TTL, and with a token
    no_token = instance.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{url}/meta-data/"]
    )
    bad_ttl = instance.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "PUT",
            f"{url}/api/token",
            "-H",
            "X-aws-ec2-metadata-token-ttl-seconds: 0",
        ]
    )
    script = (
        f'token=$(curl -sf -X PUT {url}/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")\n'
        f"for p in instance-id local-ipv4 placement/availability-zone tags/instance; do\n"
        f'  curl -sf -H "X-aws-ec2-metadata-token: $token" {url}/meta-data/$p; echo; done\n'
        "ip -4 -o addr show eth0 | awk '{print $4}'\n"
    )
    answers = instance.run(["/bin/bash", "-c", script])
    # THEN it answers 401 and 400, then this instance's own metadata (tags included)
    assert (no_token["output"], bad_ttl["output"]) == ("401", "400")
    assert answers["output"].split("\n") == [
        SPEC["instance_id"],
        SPEC["private_ip"],
        SPEC["availability_zone"],
        "Name",
        "Stage",
        "DeploymentStage",
        f"{SPEC['private_ip']}/32",
        "",
    ]


def test_metadata_follows_the_instance_tags_and_the_instance_keeps_its_state(
    instance: Driver,
) -> None:
    # GIVEN a running instance with a file of its own
    stage = (
        'token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-'
        'token-ttl-seconds: 60")\ncurl -sf -H "X-aws-ec2-metadata-token: $token" '
        "http://169.254.169.254/latest/meta-data/tags/instance/Stage"
    )
    instance.write_file("/opt/app/marker", b"kept")
    before = instance.run(["/bin/bash", "-c", stage])["output"]
    # WHEN the engine next asks for it with the instance's tags changed
    again = instance.call("start", **{**SPEC, "tags": {**SPEC["tags"], "Stage": "beta"}})
    # THEN the metadata service answers with the new tag, in the same instance
    assert (before, instance.run(["/bin/bash", "-c", stage])["output"]) == ("alpha", "beta")
    assert again["page_url"] == instance.page_url
    assert instance.read_file("/opt/app/marker") == b"kept"


def test_nothing_a_hook_writes_lands_outside_its_instance(
    instance: Driver, state_root: Path, tmp_path: Path
) -> None:
    # GIVEN host paths all over the tree, the repository and LocalStack's home included
    marker = f"xrdeploy-leak-{uuid.uuid4().hex[:8]}"
    targets = [
        Path("/etc") / marker,
        Path("/usr/local/bin") / marker,
        Path("/var/www") / marker / "index.html",
        Path("/root") / marker,
        Path("/opt") / marker,
        Path("/home") / marker,
        Path("/srv") / marker,
        Path("/mnt") / marker,
        Path("/") / marker,
        Path("/tmp") / marker,
        Path("/run") / marker,
        Path("/dev/shm") / marker,
        REPO_ROOT / marker,
        localstack_home() / marker,
        tmp_path / marker,
    ]
    # (the second set after the hook unmounted its /etc and the repository's overlays)
    again = [Path("/etc") / f"{marker}-2", REPO_ROOT / f"{marker}-2"]
    script = [f"mkdir -p {p.parent} && echo leak > {p}" for p in targets]
    # Lazily (-l): a checkout under /tmp has the local cloud's Python bound there, in use.
    script += [f"cat {targets[0]}", f"umount -l /etc /{REPO_ROOT.parts[1]}"]
    script += [f"mkdir -p {p.parent} && echo leak > {p}" for p in again]
    # WHEN a hook writes to each of them
    result = instance.run(["/bin/bash", "-c", "set -e\n" + "\n".join(script)])
    # THEN the hook saw its writes succeed
    assert (result["exit_code"], result["output"]) == (0, "leak\n"), result
    # AND none of them exists on the host
    leaked = [path for path in [*targets, *again] if path.exists()]
    assert leaked == []
    # AND stopping the instance removes everything it wrote
    instance.call("stop")
    assert list(state_root.iterdir()) == []


def test_a_command_over_its_timeout_is_killed_with_its_process_group(instance: Driver) -> None:
    # GIVEN a hook with a background child, and one that ignores SIGTERM
    started = time.monotonic()
    background = instance.run(["/bin/bash", "-c", "sleep 300 & sleep 300"], timeout=2)
    background_took = time.monotonic() - started
    started = time.monotonic()
    stubborn = instance.run(["/bin/bash", "-c", "trap '' TERM; sleep 300; sleep 300"], timeout=1)
    stubborn_took = time.monotonic() - started
    # THEN both are reported as timed out without an exit code
    assert (background["timed_out"], background["exit_code"]) == (True, None)
    assert (stubborn["timed_out"], stubborn["exit_code"]) == (True, None)
    # AND SIGTERM ended the first at once (before the grace period would have run out), SIGKILL
    # the second once it had (long before its sleeps would have ended); the upper bounds leave a
    # loaded machine seconds of slack
    assert background_took < 2 + KILL_GRACE_SECONDS
    assert KILL_GRACE_SECONDS <= stubborn_took < 1 + KILL_GRACE_SECONDS + 10
    # AND no process of either group is left in the instance
    assert instance.run(["pgrep", "-x", "sleep"])["exit_code"] == 1


def test_runas_runs_as_ec2_user_whom_the_kernel_keeps_out_of_roots_files(
    instance: Driver,
) -> None:
    # GIVEN a root-owned file in a running instance
    instance.write_file("/etc/xrdeploy-owned-by-root", b"root's\n", 0o644)
    # WHEN ec2-user (Amazon Linux's uid 1000) reads it and tries to append to it
    result = instance.call(
        "run",
        argv=[
            "/bin/bash",
            "-c",
            "id; echo $HOME; cat /etc/xrdeploy-owned-by-root; "
            "echo more >> /etc/xrdeploy-owned-by-root",
        ],
        env={},
        cwd="/",
        timeout=10,
        user="ec2-user",
    )
    # THEN it runs as ec2-user with its home, may read the file, and may not write it
    assert result["exit_code"] == 1
    assert result["output"].splitlines() == [
        "uid=1000(ec2-user) gid=1000(ec2-user) groups=1000(ec2-user)",
        "/home/ec2-user",
        "root's",
        "/bin/bash: line 1: /etc/xrdeploy-owned-by-root: Permission denied",
    ]
    # AND a user the instance does not know fails as the agent's `su` fails
    unknown = instance.call("run", argv=["/bin/true"], env={}, cwd="/", timeout=10, user="nosuch")
    assert unknown["exit_code"] == 1
    assert unknown["output"].startswith("su: user nosuch does not exist")


def test_a_user_a_hook_creates_owns_its_files_and_root_still_writes_everywhere(
    instance: Driver,
) -> None:
    # GIVEN a user created with useradd inside the instance, owning a directory
    created = instance.run(
        ["/bin/bash", "-c", "useradd -m appuser && install -d -o appuser /srv/app && id -u appuser"]
    )
    assert created["exit_code"] == 0, created["output"]
    uid = created["output"].strip()
    # WHEN it writes there, and root appends to a file of another user's
    mine = instance.call(
        "run",
        argv=["/bin/bash", "-c", "echo mine > /srv/app/f && stat -c %u:%U /srv/app/f"],
        env={},
        cwd="/",
        timeout=10,
        user="appuser",
    )
    root = instance.run(["/bin/bash", "-c", "echo root >> /srv/app/f && cat /srv/app/f"])
    # THEN its file is its own, and root's write lands
    assert (mine["exit_code"], mine["output"]) == (0, f"{uid}:appuser\n")
    assert (root["exit_code"], root["output"]) == (0, "mine\nroot\n")
    # AND nothing of it reached the host
    assert not Path("/srv/app").exists()


def test_an_unsupported_host_says_why_in_one_line(tmp_path: Path) -> None:
    # GIVEN a host whose `ip` is refused, as in a locked-down container
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "ip"
    fake.write_text("#!/bin/sh\necho 'RTNETLINK answers: Operation not permitted' >&2\nexit 2\n")
    fake.chmod(0o755)
    locked_down = Driver(
        tmp_path / "a", env={**os.environ, "PATH": f"{fake_bin}:/usr/sbin:/usr/bin"}
    )
    # AND a host without iproute2 at all, and LocalStack running as a user with no subordinate
    # ids (nobody)
    bare = Driver(tmp_path / "b", env={**os.environ, "PATH": str(tmp_path / "empty")})
    user = Driver(tmp_path / "c")
    user.call("pretend_uid", uid=65534)
    try:
        # WHEN asked for the reason, and for an instance anyway
        reasons = [driver.call("reason")["reason"] for driver in (locked_down, bare, user)]
        with pytest.raises(DriverError) as refused:
            locked_down.call("start", **SPEC)
    finally:
        for driver in (locked_down, bare, user):
            driver.close()
    # THEN each reason is one line naming the cause and the fix, and starting an instance fails
    # with it
    assert reasons[0].startswith("user, mount and network namespaces are not available (")
    assert "returned non-zero exit status 2" in reasons[0]
    assert reasons[1:] == [
        "`ip` (iproute2) is not installed (fix: sudo apt-get install iproute2)",
        "user nobody has no range of 65535 subordinate uids in /etc/subuid "
        "(fix: sudo usermod --add-subuids 100000-165535 nobody)"
        if shutil.which("newuidmap")
        else "`newuidmap` is not installed (fix: sudo apt-get install uidmap)",
    ]
    assert all("\n" not in reason for reason in reasons)
    assert (refused.value.kind, str(refused.value)) == ("InstanceError", reasons[0])


def _listing(endpoint: str) -> dict[str, Any]:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        f"{endpoint}/_xrdeploy/instances", timeout=10
    ) as response:
        listing: dict[str, Any] = json.loads(response.read())
    return listing


def _warnings(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "Local EC2 instances" in line]


def test_localstack_says_at_start_whether_instances_can_run() -> None:
    # GIVEN LocalStack on this host, and LocalStack on a host without `ip` on its PATH
    venv = ensure_environment()
    with LocalStackServer(venv) as server:
        supported = _listing(server.endpoint)
    supported_log = server.log_path
    with LocalStackServer(venv, extra_env={"PATH": "/nonexistent"}) as server:
        unsupported = _listing(server.endpoint)
    unsupported_log = server.log_path
    # THEN the first lists no instances and no reason, and logs nothing about them
    assert supported == {"unsupported_reason": None, "instances": []}
    assert _warnings(supported_log) == []
    # AND the second gives its reason on the API and in exactly one line of its log
    reason = "`ip` (iproute2) is not installed (fix: sudo apt-get install iproute2)"
    assert unsupported == {"unsupported_reason": reason, "instances": []}
    (warning,) = _warnings(unsupported_log)
    assert warning.endswith(
        f"Local EC2 instances cannot run on this host: {reason}; "
        "CodeDeploy deployments to EC2 instances will fail with this reason"
    )
