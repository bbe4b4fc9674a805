"""``python -m xrdeploy_local_cloud.instances.launcher COMMAND...``: run COMMAND as PID 1 of a local
instance's namespaces (user, mount, network, PID, UTS, IPC), as root of a user namespace that maps
a full range of ids (:mod:`xrdeploy_local_cloud.instances.userns`).

What ``unshare --user --mount --net --pid --uts --ipc --fork --kill-child`` does, plus the step it
cannot do in that order: the maps must be written from outside the new user namespace *before*
COMMAND starts (a program started while its uid is unmapped loses its capabilities there). So a
helper forked first, still outside, writes them once this process has its new user namespace;
then the other namespaces follow, and COMMAND is forked into them and dies with this process
(``PR_SET_PDEATHSIG``), as with ``--kill-child``: killing the launcher ends the instance.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from xrdeploy_local_cloud.instances import rootfs, userns

NAMESPACES = os.CLONE_NEWNS | os.CLONE_NEWNET | os.CLONE_NEWPID | os.CLONE_NEWUTS | os.CLONE_NEWIPC
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
_DESCRIPTOR_LIMIT = 65536


def _mapped_by_helper(plan: userns.MapPlan) -> None:
    """Enter a new user namespace and have a helper outside it write the maps."""
    unshared_read, unshared_write = os.pipe()
    done_read, done_write = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(unshared_write)
        os.close(done_read)
        answer = b"x"
        if os.read(unshared_read, 1) == b"u":
            try:
                userns.write_maps(os.getppid(), plan)
                answer = b"m"
            except (OSError, userns.MapError) as error:
                answer = f"e{error}".encode()
        os.write(done_write, answer)
        os._exit(0)
    os.close(unshared_read)
    os.close(done_write)
    try:
        os.unshare(os.CLONE_NEWUSER)
    finally:
        os.write(unshared_write, b"u")  # the helper must end either way
        answer = os.read(done_read, 4096)
        os.waitpid(helper, 0)
    if answer != b"m":
        raise userns.MapError(answer[1:].decode(errors="replace") or "the map helper failed")


def _run_as_pid_one(command: list[str]) -> int:
    os.unshare(NAMESPACES)
    # As unshare(1) does: mounts made in the instance never propagate back to the host.
    rootfs.mount("none", "/", None, rootfs.MS_REC | MS_PRIVATE)
    child = os.fork()
    if child == 0:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.execv(command[0], command)
    # Holds none of the instance's descriptors: their other ends see the instance's end as theirs.
    os.closerange(3, _DESCRIPTOR_LIMIT)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def main(command: list[str]) -> int:
    if not command:
        sys.stderr.write("usage: python -m xrdeploy_local_cloud.instances.launcher COMMAND...\n")
        return 2
    try:
        _mapped_by_helper(userns.current_plan())
        return _run_as_pid_one(command)
    except (OSError, userns.MapError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
