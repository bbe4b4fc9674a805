"""``systemctl`` stand-in: hands its arguments to the instance's supervisor
(:mod:`xrdeploy_local_cloud.instances.services`) and prints its answer."""

from __future__ import annotations

import socket
import sys

from xrdeploy_local_cloud.instances import services, wire
from xrdeploy_local_cloud.instances.standins import Forward

VERSION = "systemd 252 (252.23-2.amzn2023; xrdeploy local instance stand-in)"

# Verbs whose answer is the state itself, printed on stdout whatever the exit code.
_QUERIES = ("is-active", "is-enabled", "is-failed", "status")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--version"]:
        sys.stdout.write(VERSION + "\n")
        return 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        try:
            connection.connect(services.SOCKET_NAME)
        except OSError as error:
            sys.stderr.write(f"systemctl (stand-in): the instance's supervisor: {error}\n")
            return 1
        wire.send(connection, {"argv": argv})
        answer = wire.receive(connection)
    code = int(answer["exit_code"])
    query = any(word in _QUERIES for word in argv)
    (sys.stdout if code == 0 or query else sys.stderr).write(str(answer["output"]))
    return code


def forward(plan: Forward) -> int:
    """Carry out what ``service`` or ``chkconfig`` decided (:class:`Forward`)."""
    sys.stdout.write(plan.stdout)
    sys.stderr.write(plan.stderr)
    sys.stderr.flush()
    return main(list(plan.systemctl)) if plan.systemctl else plan.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
