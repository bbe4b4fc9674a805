"""The resumable SHA-256 behind the xrdeploy-sha256 metadata (pure, no AWS)."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
import resumable_sha256

DATA = os.urandom(3 * 1024 * 1024 + 17)


@pytest.mark.parametrize("split", [0, 1, 63, 64, 65, 1024 * 1024, len(DATA)])
def test_a_resumed_hash_equals_hashlib_over_the_whole_object(split: int) -> None:
    # GIVEN a hash saved after `split` bytes, as a paused promotion saves it
    first = resumable_sha256.new_sha256()
    first.update(DATA[:split])
    state = first.checkpoint()

    # WHEN it is restored (as the next invocation does) and fed the rest
    resumed = resumable_sha256.new_sha256(state)
    resumed.update(DATA[split:])

    # THEN the digest is hashlib's for the whole object
    assert resumed.digest() == hashlib.sha256(DATA).digest()


def test_digest_does_not_end_the_hash() -> None:
    # GIVEN a hash that has reported a digest
    running = resumable_sha256.new_sha256()
    running.update(b"abc")
    assert running.digest() == hashlib.sha256(b"abc").digest()

    # WHEN more data follows
    running.update(b"def")

    # THEN it is as if the digest had never been taken
    assert running.digest() == hashlib.sha256(b"abcdef").digest()


@pytest.mark.parametrize(
    "state",
    [
        "not base64!",
        base64.b64encode(b"too short").decode(),
        # a state whose pending-byte count is out of range would let OpenSSL write out of bounds
        base64.b64encode(
            bytes(104) + (64).to_bytes(4, "little") + (32).to_bytes(4, "little")
        ).decode(),
    ],
    ids=["not-base64", "wrong-length", "num-out-of-range"],
)
def test_a_corrupt_state_is_refused(state: str) -> None:
    # GIVEN / WHEN / THEN a state that did not come from checkpoint() is refused before use
    with pytest.raises(ValueError):
        resumable_sha256.new_sha256(state)


def test_without_libcrypto_hashing_works_but_cannot_be_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a runtime whose libcrypto lacks SHA256_Init/Update/Final
    monkeypatch.setattr(resumable_sha256, "_LIBCRYPTO", None)

    # WHEN a hash is used
    running = resumable_sha256.new_sha256()
    running.update(DATA)

    # THEN it still hashes, but saving its state raises CheckpointUnavailable
    assert running.digest() == hashlib.sha256(DATA).digest()
    with pytest.raises(resumable_sha256.CheckpointUnavailable):
        running.checkpoint()


def test_this_runtime_can_save_hashes() -> None:
    # GIVEN / WHEN / THEN the CPython used for tests (like Lambda's) exposes OpenSSL's SHA-256
    assert resumable_sha256.checkpoints_supported()
