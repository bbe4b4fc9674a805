"""An asynchronous invocation that reaches a stopping event poller (its function being updated)
is put back in the queue or still run, never left invisible for the function's timeout plus a
minute (LocalStack's own poller drops it)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from localstack.services.lambda_.invocation.event_manager import LambdaEventManager, Poller
from localstack.services.lambda_.invocation.internal_sqs_queue import get_fake_sqs_client

from xrdeploy_local_cloud.lambda_runtime import event_handoff
from xrdeploy_local_cloud.lambda_runtime.event_handoff import LONG_POLL_SECONDS, hand_over

FUNCTION_TIMEOUT = 300  # the message stays invisible 6 minutes once received


def test_a_message_is_handed_to_running_invoker_threads() -> None:
    handled: list[dict[str, Any]] = []
    put_back: list[str] = []
    with ThreadPoolExecutor() as pool:
        assert hand_over(
            {"ReceiptHandle": "r-1"},
            submit=lambda message: pool.submit(handled.append, message),
            put_back=put_back.append,
        )
    assert handled == [{"ReceiptHandle": "r-1"}]
    assert put_back == []


def test_a_message_for_stopped_invoker_threads_is_put_back_by_its_receipt() -> None:
    pool = ThreadPoolExecutor()
    pool.shutdown()
    put_back: list[str] = []
    assert not hand_over(
        {"ReceiptHandle": "r-2"},
        submit=lambda message: pool.submit(print, message),
        put_back=put_back.append,
    )
    assert put_back == ["r-2"]


@pytest.fixture
def queue_url() -> Iterator[str]:
    queues = get_fake_sqs_client()
    url = str(queues.create_queue(QueueName=f"handoff-{uuid.uuid4().hex}")["QueueUrl"])
    yield url
    queues.delete_queue(QueueUrl=url)


def a_poller(queue_url: str, handled: list[str]) -> Poller:
    """LocalStack's poller of one function version, with our run and stop."""
    function_id = SimpleNamespace(
        function_name="handoff", qualifier="$LATEST", account="000000000000", region="us-east-1"
    )
    version = SimpleNamespace(
        id=function_id,
        qualified_arn="arn:aws:lambda:us-east-1:000000000000:function:handoff:$LATEST",
        config=SimpleNamespace(timeout=FUNCTION_TIMEOUT),
    )
    poller = Poller(SimpleNamespace(function_version=version), queue_url)  # type: ignore[arg-type]
    poller.handle_message = lambda message: handled.append(message["Body"])  # type: ignore[method-assign]
    return poller


def stop_for_update(poller: Poller, polling: threading.Thread) -> None:
    """Stop `poller` as LocalStack does when its function's update becomes active."""
    manager = LambdaEventManager(version_manager=poller.version_manager)
    manager.poller, manager.poller_thread = poller, polling  # type: ignore[assignment]
    manager.stop_for_update()


def idle_thread() -> threading.Thread:
    thread = threading.Thread(target=lambda: None)
    thread.start()
    return thread


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    applied = event_handoff.patches()
    for patch in applied:
        patch.apply()
    yield
    for patch in reversed(applied):
        patch.undo()


def test_what_a_stopping_poller_receives_goes_back_to_the_queue_at_once(queue_url: str) -> None:
    # GIVEN a poller in a long poll of its function's queue
    queues = get_fake_sqs_client()
    handled: list[str] = []
    poller = a_poller(queue_url, handled)
    polling = threading.Thread(target=poller.run)
    polling.start()
    threading.Event().wait(0.3)
    # WHEN the function's update stops it, and an event arrives before its long poll ends
    stopping = threading.Thread(target=stop_for_update, args=(poller, polling))
    stopping.start()
    queues.send_message(QueueUrl=queue_url, MessageBody="event-after-stop")
    stopping.join(LONG_POLL_SECONDS + 3)
    polling.join(LONG_POLL_SECONDS + 3)
    # THEN the poller has ended without running it, and the next poller receives it at once
    assert not polling.is_alive()
    assert handled == []
    received = queues.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)["Messages"]
    assert [message["Body"] for message in received or []] == ["event-after-stop"]


def test_a_stopped_poller_still_runs_what_it_had_handed_on(queue_url: str) -> None:
    # GIVEN a poller whose invoker thread is busy, with a second event waiting for it
    handled: list[str] = []
    poller = a_poller(queue_url, handled)
    poller.invoker_pool = ThreadPoolExecutor(max_workers=1)
    busy = threading.Event()
    poller.invoker_pool.submit(busy.wait)
    poller.invoker_pool.submit(handled.append, "handed-on")
    # WHEN the function's update stops the poller
    stop_for_update(poller, idle_thread())
    busy.set()
    poller.invoker_pool.shutdown(wait=True)
    # THEN the waiting event still ran (it invokes the function's current version by ARN)
    assert handled == ["handed-on"]


def test_a_deleted_functions_poller_cancels_what_it_had_handed_on(queue_url: str) -> None:
    # GIVEN a poller whose invoker thread is busy, with a second event waiting for it
    handled: list[str] = []
    poller = a_poller(queue_url, handled)
    poller.invoker_pool = ThreadPoolExecutor(max_workers=1)
    busy = threading.Event()
    poller.invoker_pool.submit(busy.wait)
    poller.invoker_pool.submit(handled.append, "handed-on")
    # WHEN the function is deleted (LocalStack stops the poller itself)
    poller.stop()
    busy.set()
    poller.invoker_pool.shutdown(wait=True)
    # THEN the waiting event is dropped with the function, as LocalStack and AWS do
    assert handled == []
