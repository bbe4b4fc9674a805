"""The ordered EventBridge sender every service's state-change events go through.

Events are queued and sent by one worker thread to the default bus of their account and region,
in the order they were put, so a service never waits for EventBridge.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from localstack.aws.connect import connect_to

LOG = logging.getLogger(__name__)

_queue: queue.Queue[tuple[str, str, str, dict[str, Any]]] = queue.Queue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


def put(account_id: str, region: str, entry: dict[str, Any]) -> None:
    """Queue one PutEvents entry for the default bus of ``account_id``/``region``."""
    global _worker
    _queue.put((account_id, region, str(entry["DetailType"]), entry))
    with _worker_lock:
        if _worker is None:
            _worker = threading.Thread(target=_deliver, name="service-events", daemon=True)
            _worker.start()


def _deliver() -> None:
    while True:
        account_id, region, detail_type, entry = _queue.get()
        try:
            events = connect_to(aws_access_key_id=account_id, region_name=region).events
            events.put_events(Entries=[entry])
        except Exception:
            LOG.warning("could not send the %s event to EventBridge", detail_type, exc_info=True)
