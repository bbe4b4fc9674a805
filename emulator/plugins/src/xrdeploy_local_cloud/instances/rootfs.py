"""The instance's file system: a private root the holder pivots into.

Run by the holder as root of its own user and mount namespace, before any thread starts. Overlay
of ``/`` itself is refused by the kernel, and a hook may write anywhere (a new top-level file, a
host socket under ``/run``), so the instance does not get the host's tree with overlays on top:
it gets a fresh tmpfs root holding

* one overlay per top-level host directory (lower: the host's, read-only through the overlay,
  under the :mod:`.skeleton` layer when LocalStack runs as a normal user; upper: under the
  instance's state directory), so installed software and the repository are visible and every
  write stays in the instance;
* fresh ``/tmp`` and ``/run`` (tmpfs, as on a booted EC2 instance), ``/proc`` of the instance's
  PID namespace (kernel knobs read-only), ``/sys`` read-only, and a minimal ``/dev``.

After ``pivot_root`` the host's tree is detached, so even a hook that unmounts an overlay only
finds an empty directory of the instance's tmpfs.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import shutil
import sys
from pathlib import Path

LOG = logging.getLogger(__name__)

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MNT_DETACH = 0x2
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
_SYSCALLS = {"x86_64": (155, 442), "aarch64": (41, 442)}  # pivot_root, mount_setattr

# Made fresh instead of overlaid; everything else at the top level gets an overlay.
FRESH = ("proc", "sys", "dev", "tmp", "run")
# Docker's read-only /proc paths: knobs that act on the whole host, not the instance.
PROC_READ_ONLY = ("sys", "sysrq-trigger", "bus", "fs", "irq")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_COPIED_FILE_LIMIT = 1 << 20

_libc = ctypes.CDLL(None, use_errno=True)


class MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source: str, target: str, fstype: str | None, flags: int = 0, data: str = "") -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {fstype or 'bind'} {source} on {target}",
    )


def _syscall_numbers() -> tuple[int, int]:
    machine = platform.machine()
    if machine not in _SYSCALLS:
        raise OSError(f"no pivot_root syscall number known for {machine}")
    return _SYSCALLS[machine]


def _read_only_recursive(target: str) -> None:
    attr = MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    number = _syscall_numbers()[1]
    result = _libc.syscall(
        number, -100, target.encode(), AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)
    )
    _check(result, f"mount_setattr ro {target}")


def _overlay(name: str, root: Path, state: Path, skeleton: Path | None) -> None:
    upper, work = state / "upper" / name, state / "work" / name
    upper.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    lower = f"/{name}"
    if skeleton is not None and (skeleton / name).is_dir():
        lower = f"{skeleton / name}:{lower}"  # the first lower layer is the upper-most
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    try:
        mount("overlay", str(root / name), "overlay", 0, options)
    except OSError as error:
        # E.g. a lower holding mounts the kernel will not stack on: the instance still gets a
        # private, writable (empty) directory there, never the host's.
        LOG.warning("/%s: %s; the instance gets an empty /%s", name, error, name)


def _proc(root: Path) -> None:
    target = root / "proc"
    mount("proc", str(target), "proc", MS_NOSUID | MS_NODEV)
    for name in PROC_READ_ONLY:
        path = target / name
        if path.exists():
            mount(str(path), str(path), None, MS_BIND | MS_REC)
            mount("", str(path), None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def _sys(root: Path) -> None:
    target = str(root / "sys")
    try:
        # Recursive: the kernel refuses a plain bind of a tree with locked submounts.
        mount("/sys", target, None, MS_BIND | MS_REC)
    except OSError as error:
        LOG.warning("/sys: %s; the instance gets an empty /sys", error)
        return
    try:
        _read_only_recursive(target)
    except OSError as error:
        LOG.warning("/sys: %s; the instance gets an empty /sys", error)
        _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def _dev(root: Path) -> None:
    dev = root / "dev"
    mount("tmpfs", str(dev), "tmpfs", MS_NOSUID, "mode=755")
    for name in DEVICES:
        node = dev / name
        node.touch()
        mount(f"/dev/{name}", str(node), None, MS_BIND)
    for name in ("pts", "shm"):
        (dev / name).mkdir()
    mount("devpts", str(dev / "pts"), "devpts", MS_NOSUID, "newinstance,ptmxmode=0666,mode=620")
    mount("tmpfs", str(dev / "shm"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    (dev / "ptmx").symlink_to("pts/ptmx")
    (dev / "fd").symlink_to("/proc/self/fd")
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        (dev / name).symlink_to(f"/proc/self/fd/{number}")


def _top_level(root: Path, state: Path, skeleton: Path | None) -> None:
    # The state directory must not be inside a lower layer (overlayfs refuses overlapping
    # layers); the host directory holding it stays an empty directory in the instance.
    state_top = state.resolve().parts[1]
    for entry in sorted(os.scandir("/"), key=lambda e: e.name):
        target = root / entry.name
        if entry.is_symlink():
            target.symlink_to(Path(entry.path).readlink())
        elif entry.is_dir():
            target.mkdir()
            if entry.name not in FRESH and entry.name != state_top:
                _overlay(entry.name, root, state, skeleton)
        elif entry.is_file() and entry.stat().st_size <= _COPIED_FILE_LIMIT:
            shutil.copy2(entry.path, target)


def _own_python(root: Path) -> None:
    """The local cloud's Python (the agent and the stand-ins run on it) stays visible when it lives
    under a directory the instance gets fresh, e.g. a checkout under /tmp as CI clones it: it is
    bound read-only at the same path, so the instance can run it but not change it."""
    for prefix in sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}):
        if len(prefix.parts) < 2 or prefix.parts[1] not in FRESH:
            continue  # seen through its top-level overlay already
        target = root / prefix.relative_to("/")
        target.mkdir(parents=True, exist_ok=True)
        mount(str(prefix), str(target), None, MS_BIND | MS_REC)
        _read_only_recursive(str(target))


def build(state: Path, skeleton: Path | None = None) -> Path:
    """Mount the instance's tree under ``state/root``; overlay uppers live in ``state/upper``,
    with ``skeleton`` (:mod:`.skeleton`, rootless instances) between them and the host's."""
    root = state / "root"
    root.mkdir()
    mount("tmpfs", str(root), "tmpfs", 0, "mode=755")
    _top_level(root, state, skeleton)
    for name in FRESH:
        (root / name).mkdir(exist_ok=True)
    mount("tmpfs", str(root / "tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    mount("tmpfs", str(root / "run"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
    (root / "run" / "lock").mkdir()
    _own_python(root)
    _proc(root)
    _sys(root)
    _dev(root)
    return root


def enter(root: Path) -> None:
    """Make ``root`` the root of this mount namespace and detach the host's tree."""
    os.chdir(root)
    _check(_libc.syscall(_syscall_numbers()[0], b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the host's root")
    os.chdir("/")
