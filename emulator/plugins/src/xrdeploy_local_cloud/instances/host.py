"""The local instances of this LocalStack process: the interface the CodeDeploy engine drives.

    host = local_instances()
    reason = host.unsupported_reason()          # None, or one line saying why not here
    instance = host.instance(spec)              # started on first use, reused after
    result = instance.run(["/bin/bash", "x.sh"], env={...}, cwd="/opt/...", timeout=60)
    instance.write_file("/etc/x", b"...", 0o644); instance.read_file("/etc/x")
    instance.page_url                           # http://127.0.0.1:PORT -> the instance's port 80
    host.stop_instance(instance_id); host.stop_all()

State directories (overlay upper layers, control socket, holder log) live under
``$TMPDIR/xrdeploy-instances/`` (LocalStack's temporary directory when it runs there) and are
removed when an instance stops; so is, as a normal user, the :mod:`.skeleton` layer, removed by
:meth:`InstanceHost.stop_all`.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from xrdeploy_local_cloud.instances import skeleton, userns
from xrdeploy_local_cloud.instances.instance import LAUNCHER, LocalInstance, remove_tree
from xrdeploy_local_cloud.instances.spec import InstanceError, InstanceSpec, RunResult

__all__ = [
    "InstanceError",
    "InstanceHost",
    "InstanceSpec",
    "LocalInstance",
    "RunResult",
    "local_instances",
]

LOG = logging.getLogger(__name__)

CredentialSource = Callable[[InstanceSpec], Mapping[str, str] | None]
# Run in the namespaces an instance gets: what must work for one to start.
_PROBE = """
import os, subprocess, sys
from pathlib import Path
from xrdeploy_local_cloud.instances import rootfs
subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
base = Path(sys.argv[1])
rootfs.mount("tmpfs", str(base), "tmpfs")
for name in ("lower", "upper", "work", "merged"):
    (base / name).mkdir()
rootfs.mount("overlay", str(base / "merged"), "overlay", 0,
             f"lowerdir={base}/lower,upperdir={base}/upper,workdir={base}/work")
owned = base / "merged" / "owned"
owned.touch()
os.chown(owned, 1000, 1000)  # ids beyond root are mapped: ec2-user can own files
"""
PROBE_TIMEOUT_SECONDS = 20.0


def _probe() -> str | None:
    if platform.system() != "Linux":
        return f"this host runs {platform.system()}, and local instances need Linux namespaces"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed (fix: sudo apt-get install iproute2)"
    refusal = userns.kernel_refusal(os.geteuid(), userns.kernel_settings())
    if refusal is not None:
        return refusal
    try:
        userns.current_plan()
    except userns.MapError as error:
        return str(error)
    return _probe_namespaces()


def _probe_namespaces() -> str | None:
    command = [sys.executable, "-I", "-m", LAUNCHER, sys.executable, "-I", "-c", _PROBE]
    try:
        with tempfile.TemporaryDirectory(prefix="xrdeploy-probe-") as base:
            result = subprocess.run(
                [*command, base],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_SECONDS,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the instance launcher failed ({error})"
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1].removeprefix("error: ") if lines else f"exit code {result.returncode}"
        return f"user, mount and network namespaces are not available ({detail})"
    return None


class InstanceHost:
    def __init__(
        self, state_root: Path | None = None, credentials: CredentialSource | None = None
    ) -> None:
        self._state_root = state_root or Path(tempfile.gettempdir()) / "xrdeploy-instances"
        self._credentials = credentials
        self._lock = threading.Lock()
        self._instances: dict[str, LocalInstance] = {}
        self._reason: str | None = None
        self._probed = False
        self._skeleton_lock = threading.Lock()
        self._skeleton: Path | None = None

    def unsupported_reason(self) -> str | None:
        """Why this host cannot run local instances (one line, no prefix), or None; probed once
        by starting an instance's namespaces with an overlay and the loopback up."""
        with self._lock:
            if not self._probed:
                self._reason = _probe()
                self._probed = True
            return self._reason

    def instance(self, spec: InstanceSpec) -> LocalInstance:
        reason = self.unsupported_reason()
        if reason is not None:
            raise InstanceError(reason)
        skeleton = self._skeleton_layer()
        with self._lock:
            instance = self._instances.get(spec.instance_id)
            if instance is None or instance.state in ("stopped", "failed"):
                credentials = self._credentials_for(spec)
                instance = LocalInstance(spec, self._state_root, credentials, skeleton)
                self._instances[spec.instance_id] = instance
        if instance.spec != spec:
            same_role = instance.spec.iam_role_name == spec.iam_role_name
            credentials = instance.credentials if same_role else self._credentials_for(spec)
            instance.update(spec, credentials)
        instance.start()  # outside the host's lock: instances start in parallel
        instance.first_boot()
        return instance

    def _skeleton_layer(self) -> Path | None:
        """As a normal user: the layer that makes the host's /etc, /usr and /var writable inside
        (built once, at the first instance; see :mod:`.skeleton`). Under a lock of its own:
        listing instances does not wait the seconds it takes."""
        if os.geteuid() == 0:
            return None
        with self._skeleton_lock:
            if self._skeleton is None:
                self._skeleton = skeleton.ensure(self._state_root / f"skeleton-{os.getpid()}")
            return self._skeleton

    def console_output(self, instance_id: str) -> str:
        """What the instance's user data printed at its first boot ("" before it booted)."""
        with self._lock:
            instance = self._instances.get(instance_id)
        return instance.console_output if instance else ""

    def _credentials_for(self, spec: InstanceSpec) -> Mapping[str, str] | None:
        return self._credentials(spec) if self._credentials else None

    def instances(self) -> list[LocalInstance]:
        with self._lock:
            return list(self._instances.values())

    def stop_instance(self, instance_id: str) -> None:
        with self._lock:
            instance = self._instances.pop(instance_id, None)
        if instance is not None:
            instance.stop()

    def stop_all(self) -> None:
        with self._lock:
            instances = list(self._instances.values())
            self._instances.clear()
        with self._skeleton_lock:
            built, self._skeleton = self._skeleton, None
        for instance in instances:
            instance.stop()
        if built is not None and built.exists():
            remove_tree(built)


_host: InstanceHost | None = None
_host_lock = threading.Lock()


def local_instances() -> InstanceHost:
    """The instance host of this LocalStack process; role credentials come from its STS."""
    global _host
    with _host_lock:
        if _host is None:
            from xrdeploy_local_cloud.instances.credentials import instance_role_credentials

            _host = InstanceHost(credentials=instance_role_credentials)
        return _host
