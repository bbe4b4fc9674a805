"""The process that is a local instance: ``python -m xrdeploy_local_cloud.instances.holder``.

Started by :mod:`xrdeploy_local_cloud.instances.instance` through
:mod:`xrdeploy_local_cloud.instances.launcher`, so it is PID 1 of the instance's PID namespace and
root of its user namespace (which maps ids 0..65535). As PID 1 it sets the instance up while it is
still single-threaded (network, stand-ins, root file system, ``ec2-user``, hostname), then forks
the daemon that serves the instance and reaps orphans until the daemon ends; when PID 1 ends, the
kernel kills every process of the instance. What went wrong but left a usable instance (an empty
``/etc``, say) is sent to LocalStack as ``warning: ...`` lines before ``ready``.

The sockets it serves were bound by LocalStack in the host's namespaces and inherited: the
control socket (a unix socket in the state directory) and the page socket (TCP on the host's
loopback), so both work although the instance sees neither the state directory nor the host's
network. A pipe whose write end only LocalStack holds tells the daemon when LocalStack is gone.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from xrdeploy_local_cloud.instances import (
    accounts,
    control,
    forward,
    imds,
    rootfs,
    services,
    standins,
)

LOG = logging.getLogger("xrdeploy.instance")

IMDS_ADDRESS = "169.254.169.254"
FALLBACK_ADDRESS = "169.254.169.253"


def _ip(*arguments: str, pass_fds: tuple[int, ...] = ()) -> None:
    result = subprocess.run(
        ["ip", *arguments], capture_output=True, text=True, check=False, pass_fds=pass_fds
    )
    if result.returncode != 0:
        raise OSError(f"ip {' '.join(arguments)}: {result.stderr.strip()}")


def _metadata_service(
    spec: dict[str, object], private_ip: str, ready_fd: int, updates: socket.socket
) -> None:
    """Fork the metadata service into a network namespace of its own, linked to the instance's
    ``eth0`` by a veth pair: 169.254.169.254 is then a neighbour, as on EC2, not an address of
    the instance, and port 80 of the instance stays free for its own web server. It reads new
    specs from ``updates`` (the daemon holds the other end)."""
    to_parent, from_child = os.pipe()
    to_child, from_parent = os.pipe()
    # The child creates the veth pair and moves eth0 into the instance's namespace, named by an
    # open file rather than a PID: iproute2 >= 6.15 resolves `netns PID` through /proc, which
    # inside a container is the container's /proc, not the instance's PID namespace.
    instance_netns = os.open("/proc/self/ns/net", os.O_RDONLY)
    child = os.fork()
    if child == 0:
        # Without the ready pipe: a failed set-up must reach LocalStack as its end of file.
        for fd in (to_parent, from_parent, ready_fd):
            os.close(fd)
        try:
            os.unshare(os.CLONE_NEWNET)
            pair = ("link", "add", "imds0", "type", "veth", "peer", "name", "eth0", "netns")
            _ip(*pair, f"/proc/self/fd/{instance_netns}", pass_fds=(instance_netns,))
            os.close(instance_netns)
            os.write(from_child, b"n")
            if os.read(to_child, 1) != b"l":
                os._exit(1)
            _ip("link", "set", "lo", "up")
            _ip("addr", "add", f"{IMDS_ADDRESS}/32", "dev", "imds0")
            _ip("link", "set", "imds0", "up")
            _ip("route", "add", f"{private_ip}/32", "dev", "imds0")
            metadata = imds.Metadata(spec)
            server = imds.server(IMDS_ADDRESS, metadata)
            os.write(from_child, b"r")
            os.close(from_child)
        except BaseException:
            LOG.exception("metadata service failed to start")
            os._exit(1)
        imds.follow_updates(metadata, updates).start()
        server.serve_forever()
        os._exit(0)
    os.close(from_child)
    os.close(to_child)
    os.close(instance_netns)
    updates.close()
    try:
        if os.read(to_parent, 1) != b"n":
            raise OSError("the metadata service did not get its network namespace and link")
        _ip("addr", "add", f"{private_ip}/32", "dev", "eth0")
        _ip("link", "set", "eth0", "up")
        _ip("route", "add", f"{IMDS_ADDRESS}/32", "dev", "eth0")
        os.write(from_parent, b"l")
        if os.read(to_parent, 1) != b"r":
            raise OSError("the metadata service did not start (see the holder log)")
    finally:
        os.close(to_parent)
        os.close(from_parent)


def _network(spec: dict[str, object], ready_fd: int) -> socket.socket:
    """Bring the instance's network up; answers the channel for metadata updates."""
    updates, metadata_end = socket.socketpair()
    _ip("link", "set", "lo", "up")
    # An instance without a private address still needs one on eth0 to reach the metadata
    # service; a link-local one claims nothing of the VPC's.
    _metadata_service(spec, str(spec["private_ip"] or FALLBACK_ADDRESS), ready_fd, metadata_end)
    return updates


def _hostname(name: str) -> None:
    encoded = name.encode()
    if ctypes.CDLL(None, use_errno=True).sethostname(encoded, len(encoded)) != 0:
        raise OSError(ctypes.get_errno(), "sethostname")


def _set_up(
    state: Path, skeleton: Path | None, spec: dict[str, object], ready_fd: int
) -> socket.socket:
    updates = _network(spec, ready_fd)
    # Written into the overlay's upper layer before it is mounted: hooks find the stand-ins
    # where the real tools live, and the host's own /usr stays untouched.
    standins.install(state / "upper", python=sys.executable)
    root = rootfs.build(state, skeleton)
    rootfs.enter(root)
    try:
        accounts.add(accounts.EC2_USER)
    except OSError as error:
        LOG.warning("ec2-user not added: %s", error)
    _hostname(str(spec["hostname"]))
    return updates


def _serve(args: argparse.Namespace, spec: dict[str, object], updates: socket.socket) -> None:
    supervisor = services.Supervisor()
    threads = [
        control.serve(socket.socket(fileno=args.control_fd), updates),
        forward.serve(socket.socket(fileno=args.page_fd), spec["instance_id"]),
        services.serve(supervisor),
    ]
    for thread in threads:
        thread.start()
    os.write(args.ready_fd, b"ready\n")
    os.close(args.ready_fd)
    # Blocks until LocalStack closes (or loses) its end: then the instance ends with it.
    while os.read(args.lifeline_fd, 1):
        pass
    LOG.info("LocalStack is gone; stopping the instance")
    supervisor.stop_all()


class _Warnings(logging.Handler):
    """The set-up's warnings, for LocalStack's log and ``local status``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().replace("\n", " "))


def _reap_until(daemon: int) -> int:
    while True:
        pid, status = os.wait()
        if pid == daemon:
            return os.waitstatus_to_exitcode(status)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="xrdeploy-instance-holder")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--skeleton", type=Path, default=None)
    for name in ("control", "page", "ready", "lifeline"):
        parser.add_argument(f"--{name}-fd", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = _arguments(argv)
    spec = json.loads((args.state / "instance.json").read_text())
    warnings = _Warnings()
    logging.getLogger().addHandler(warnings)
    try:
        updates = _set_up(args.state, args.skeleton, spec, args.ready_fd)
    except OSError as error:
        os.write(args.ready_fd, f"error: {error}\n".encode())
        return 1
    logging.getLogger().removeHandler(warnings)
    for message in warnings.messages:
        os.write(args.ready_fd, f"warning: {message}\n".encode())
    daemon = os.fork()
    if daemon == 0:
        try:
            _serve(args, spec, updates)
        except BaseException:
            LOG.exception("instance daemon failed")
            os._exit(1)
        os._exit(0)
    os.close(args.ready_fd)
    return _reap_until(daemon)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
