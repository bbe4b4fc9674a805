"""The instance's page on the host: connections accepted on a TCP socket that LocalStack bound on
the host's loopback (inherited, so it lives in the host's network namespace) are relayed to port
80 of the instance's own loopback. No root, veth pair or bridge needed.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from xrdeploy_local_cloud.instances import wire

LOG = logging.getLogger(__name__)

INSTANCE_PORT = 80


def _pump(source: socket.socket, target: socket.socket) -> None:
    # Either side may go away at any moment; the other then gets its end of file.
    with contextlib.suppress(OSError):
        while chunk := source.recv(1 << 16):
            target.sendall(chunk)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _relay(client: socket.socket, instance_id: object) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", INSTANCE_PORT), timeout=5)
    except OSError as error:
        body = f"nothing answers on port {INSTANCE_PORT} of instance {instance_id}: {error}\n"
        client.sendall(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def serve(listener: socket.socket, instance_id: object) -> threading.Thread:
    def relay(client: socket.socket) -> None:
        _relay(client, instance_id)

    return threading.Thread(
        target=wire.accept_forever, args=(listener, relay), name="page", daemon=True
    )
