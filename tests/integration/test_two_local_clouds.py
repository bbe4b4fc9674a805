"""Two local clouds at once, each with its own home (`XRDEPLOY_LOCALSTACK_HOME`), started and
stopped the way a user does (`python -m emulator up` / `down`): neither writes into the other's
files, S3's objects stay in each run's own directory (not LocalStack's fixed
/tmp/localstack-s3-storage, shared by every user and run), and `down` leaves nothing in the temp
directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.launcher import ensure_environment
from tests.conftest import REPO_ROOT
from xrdeploy.aws_clients import local_cloud_client

# Above LocalStack's in-memory spool size (512 KiB): the object's body is a file on disk.
OBJECT_SIZE = 600 * 1024
LOCALSTACK_FIXED_S3_DIR = Path("/tmp/localstack-s3-storage")

# The account a plain "test" access key gets, LocalStack's default.
LOCALSTACK_DEFAULT_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Cloud:
    home: Path
    endpoint: str
    state_dir: Path
    pid: int
    bucket: str


def emulator(home: Path, temp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("LOCALSTACK_ENDPOINT", "AWS_ENDPOINT_URL")
    }
    env.update(XRDEPLOY_LOCALSTACK_HOME=str(home), TMPDIR=str(temp))
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def open_files(pid: int) -> list[str]:
    """What a process has open (a deleted file reads ``<path> (deleted)``)."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(str(fd.readlink()))
        except FileNotFoundError:
            continue  # closed meanwhile
    return targets


@pytest.fixture
def shared_temp(tmp_path: Path) -> Path:
    """The temp directory both clouds are started with, standing for the machine's: empty, so
    anything left in it after `down` shows."""
    temp = tmp_path / "shared-tmp"
    temp.mkdir()
    return temp


@pytest.fixture
def two_clouds(tmp_path: Path, shared_temp: Path) -> Iterator[list[Cloud]]:
    venv = ensure_environment()
    clouds: list[Cloud] = []
    try:
        for name in ("first", "second"):
            home = tmp_path / name
            home.mkdir()
            # The same LocalStack venv for both (its stamp says it is up to date): no second build.
            (home / "venv").symlink_to(venv, target_is_directory=True)
            record = json.loads(emulator(home, shared_temp, "up", "--json").stdout)
            bucket = f"two-clouds-{name}-{uuid.uuid4().hex[:8]}"
            state_dir = Path(record["state_dir"])
            clouds.append(Cloud(home, record["endpoint"], state_dir, record["pid"], bucket))
        yield clouds
    finally:
        for cloud in clouds:
            emulator(cloud.home, shared_temp, "down")


def test_two_local_clouds_keep_to_their_own_files(
    two_clouds: list[Cloud], shared_temp: Path
) -> None:
    # GIVEN two local clouds running at once, each with its own home
    first, second = two_clouds
    assert first.endpoint != second.endpoint
    assert first.state_dir != second.state_dir

    # WHEN each stores an object in a bucket of its own
    for cloud in two_clouds:
        s3 = local_cloud_client(
            "s3", endpoint=cloud.endpoint, account_id=LOCALSTACK_DEFAULT_ACCOUNT, region="us-east-1"
        )
        s3.create_bucket(Bucket=cloud.bucket)
        s3.put_object(Bucket=cloud.bucket, Key="body", Body=os.urandom(OBJECT_SIZE))

    # THEN each object's file is in its own cloud's run directory, and nowhere else
    for cloud, other in ((first, second), (second, first)):
        storage = cloud.state_dir / "tmp" / "s3-storage"
        assert [path.name for path in storage.iterdir() if path.name.startswith("two-clouds")] == [
            cloud.bucket
        ]
        # The body is an unlinked temporary file: LocalStack holds it open there.
        held = [target for target in open_files(cloud.pid) if cloud.bucket in target]
        assert held and all(target.startswith(f"{storage / cloud.bucket}/") for target in held)
        assert not any(str(LOCALSTACK_FIXED_S3_DIR) in target for target in open_files(cloud.pid))
        assert not (other.state_dir / "tmp" / "s3-storage" / cloud.bucket).exists()
        assert not (LOCALSTACK_FIXED_S3_DIR / cloud.bucket).exists()
        assert not (Path(tempfile.gettempdir()) / "localstack-s3-storage" / cloud.bucket).exists()
    # ... and each home holds its own cloud's log only
    for cloud in two_clouds:
        port = cloud.endpoint.rsplit(":", 1)[1]
        assert [path.name for path in (cloud.home / "logs").iterdir()] == [f"localstack-{port}.log"]


def test_down_leaves_nothing_in_the_temp_directory(tmp_path: Path, shared_temp: Path) -> None:
    # GIVEN a local cloud started and stopped by a user, with an object stored in it
    home = tmp_path / "home"
    home.mkdir()
    (home / "venv").symlink_to(ensure_environment(), target_is_directory=True)
    record = json.loads(emulator(home, shared_temp, "up", "--json").stdout)
    try:
        s3 = local_cloud_client(
            "s3",
            endpoint=record["endpoint"],
            account_id=LOCALSTACK_DEFAULT_ACCOUNT,
            region="us-east-1",
        )
        s3.create_bucket(Bucket="left-behind")
        s3.put_object(Bucket="left-behind", Key="body", Body=os.urandom(OBJECT_SIZE))
        assert Path(record["state_dir"]).parent == shared_temp
    finally:
        # WHEN it is stopped
        emulator(home, shared_temp, "down")

    # THEN nothing of it is left in the temp directory; its home keeps the venv link and the log
    assert list(shared_temp.iterdir()) == []
    assert {path.name for path in home.iterdir()} == {"venv", "venv.lock", "logs"}
