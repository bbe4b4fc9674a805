"""One JSON object per line over a stream socket: the control channel between LocalStack and an
instance's holder, and between the ``systemctl`` stand-in and the holder.

Stdlib only: both ends import it, the holder from inside the instance.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

# A request carries a whole file (base64) or a hook's output; bound it so a broken peer cannot
# make the other side buffer without end.
MAX_MESSAGE = 256 * 1024 * 1024


class WireError(RuntimeError):
    """The peer closed the channel or sent something that is not a message."""


def accept_forever(listener: socket.socket, handle: Callable[[socket.socket], None]) -> None:
    """Serve each connection in a thread of its own; survives a failed accept (no descriptors
    left, say) instead of leaving the instance deaf."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError as error:
            LOG.warning("accept on %s failed: %s", listener.getsockname(), error)
            time.sleep(0.5)  # what frees descriptors is a connection ending; nothing to wait on
            continue
        threading.Thread(target=handle, args=(connection,), daemon=True).start()


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")


def receive(sock: socket.socket) -> dict[str, Any]:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise WireError("the channel closed before a whole message arrived")
        if chunk.endswith(b"\n"):
            chunks.append(chunk)
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_MESSAGE:
            raise WireError("message too large")
    message = json.loads(b"".join(chunks))
    if not isinstance(message, dict):
        raise WireError("message is not a JSON object")
    return message
