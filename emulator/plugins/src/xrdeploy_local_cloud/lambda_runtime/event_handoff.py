"""An asynchronous invocation is not held back by an update of its function.

LocalStack (``services/lambda_/invocation/event_manager.py``) queues each asynchronous
invocation in an internal queue per function version. A poller long-polls it, 2 s at a time,
and hands what it receives to its invoker threads; a received message stays invisible for the
function's timeout plus 60 s. An update starts the new version's poller on the same queue, then
stops the old one, which drops what its last long poll still receives (its stop flag is set) and
cancels what it handed on but had not started. Such an invocation runs only when its
invisibility ends, minutes late: after a CodePipeline Lambda action waiting for its job result
may have given up. Measured against LocalStack alone: 6 of 8 events sent just after an
``UpdateFunctionConfiguration`` were not run within 15 s. On AWS an update holds back no event.

Here a poller stopped for an update lets its invoker threads run what they were handed (each
message invokes the function's current version by ARN, whichever poller took it), and any
stopping poller puts back what it receives after that at once, where the new version's poller
takes it (a deleted function's queue goes with it). A deletion still cancels what was handed on,
as LocalStack does. Applied once at LocalStack's start by the ``xrdeploy_lambda_event_handoff``
on_infra_start hook.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

from localstack.services.lambda_.invocation.event_manager import LambdaEventManager, Poller
from localstack.services.lambda_.invocation.internal_sqs_queue import get_fake_sqs_client
from localstack.utils.patch import Patch

LOG = logging.getLogger(__name__)

# As LocalStack's poller: a long poll of 2 s, up to 10 messages, each invisible for the
# function's timeout plus a minute while its invocation runs.
LONG_POLL_SECONDS = 2
BATCH = 10
VISIBILITY_MARGIN_SECONDS = 60
# After an unexpected error of the queue, the next poll waits this long.
ERROR_PAUSE_SECONDS = 1.0

Message = dict[str, Any]

# Pollers being stopped because their function was updated (not deleted).
_UPDATED: weakref.WeakSet[Poller] = weakref.WeakSet()


def hand_over(
    message: Message, *, submit: Callable[[Message], object], put_back: Callable[[str], None]
) -> bool:
    """Give `message` to the invoker threads; if they take no more work (their poller is
    stopping), put it back in the queue by its receipt handle. True if it was handed on."""
    try:
        submit(message)
    except RuntimeError:  # ThreadPoolExecutor.submit after shutdown
        put_back(message["ReceiptHandle"])
        return False
    return True


def put_back(queue_url: str, receipt_handle: str) -> None:
    """Make a received message visible again at once (SQS: a visibility timeout of 0)."""
    queue = get_fake_sqs_client().queue_manager.get_queue(queue_name=queue_url)
    queue.update_visibility_timeout(receipt_handle, 0)


def poll(self: Poller, *args: Any, **kwargs: Any) -> None:
    """Poller.run: receive until stopped, handing each message over (never dropping it)."""
    queue = get_fake_sqs_client()
    visibility = self.version_manager.function_version.config.timeout + VISIBILITY_MARGIN_SECONDS
    back = partial(put_back, self.event_queue_url)

    def submit(message: Message) -> object:
        return self.invoker_pool.submit(self.handle_message, message)

    while not self._shutdown_event.is_set():
        try:
            received = queue.receive_message(
                QueueUrl=self.event_queue_url,
                WaitTimeSeconds=LONG_POLL_SECONDS,
                MaxNumberOfMessages=BATCH,
                VisibilityTimeout=visibility,
            )
            for message in received.get("Messages") or []:
                hand_over(message, submit=submit, put_back=back)
        except Exception:
            if self._shutdown_event.is_set():
                return  # the queue went with the function
            arn = self.version_manager.function_version.qualified_arn
            LOG.exception("polling the events of %s", arn)
            time.sleep(ERROR_PAUSE_SECONDS)


def stop_for_update(
    original: Callable[[LambdaEventManager], None], self: LambdaEventManager
) -> None:
    """LambdaEventManager.stop_for_update: its poller stops as for an update (:func:`stop`)."""
    if self.poller is not None:
        _UPDATED.add(self.poller)
    original(self)


def stop(original: Callable[[Poller], None], self: Poller) -> None:
    """Poller.stop: for an update, no new work but what the invoker threads were handed still
    runs; for a deletion, LocalStack's own stop (which cancels it)."""
    if self not in _UPDATED:
        original(self)
        return
    self._shutdown_event.set()
    self.invoker_pool.shutdown(wait=False)


def patches() -> list[Patch]:
    return [
        Patch(Poller, "run", poll),
        Patch.function(Poller.stop, stop),
        Patch.function(LambdaEventManager.stop_for_update, stop_for_update),
    ]


def install() -> None:
    for patch in patches():
        patch.apply()
