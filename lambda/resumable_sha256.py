"""SHA-256 whose running state can be saved in a continuation token and restored later.

Why not hashlib: the contract puts the SHA-256 of the *whole* object in the destination's
metadata, and a large copy is spread over several Lambda invocations. hashlib objects cannot be
serialised, and S3's own full-object checksums for multipart uploads exist only for the CRC
family, not SHA-256. OpenSSL's low-level SHA256_CTX is a plain, documented struct (openssl/sha.h),
so we drive the same libcrypto that hashlib uses through ctypes and save the struct's bytes.
Where that libcrypto is not reachable, hashlib is used and saving the state raises
CheckpointUnavailable; the caller then has to finish within one invocation.

S3's checksum encodings and the checks against them are in verification.py.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
from typing import Protocol

DIGEST_SIZE = 32


class CheckpointUnavailable(Exception):
    """The running hash cannot be saved on this runtime."""


class Sha256(Protocol):
    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...

    def checkpoint(self) -> str:
        """The running state as base64 text, for new_sha256(state=...)."""
        ...


class _Sha256Ctx(ctypes.Structure):
    # SHA256_CTX from openssl/sha.h; SHA_LONG is a 32-bit unsigned int on every platform
    # Lambda offers (x86_64, arm64).
    _fields_ = [
        ("h", ctypes.c_uint32 * 8),
        ("Nl", ctypes.c_uint32),
        ("Nh", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 16),
        ("num", ctypes.c_uint),
        ("md_len", ctypes.c_uint),
    ]


_BLOCK_SIZE = 64
_STATE_SIZE = ctypes.sizeof(_Sha256Ctx)


def _load_libcrypto() -> ctypes.CDLL | None:
    import _hashlib  # CPython's OpenSSL binding

    # dlsym on _hashlib's handle also searches the libcrypto it links, so this finds the very
    # OpenSSL that hashlib uses even where libcrypto is not on the default library path.
    for name in ("libcrypto.so.3", getattr(_hashlib, "__file__", None)):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            for symbol in ("SHA256_Init", "SHA256_Update", "SHA256_Final"):
                getattr(lib, symbol)
        except (OSError, AttributeError):
            continue
        lib.SHA256_Init.argtypes = [ctypes.POINTER(_Sha256Ctx)]
        lib.SHA256_Update.argtypes = [ctypes.POINTER(_Sha256Ctx), ctypes.c_char_p, ctypes.c_size_t]
        lib.SHA256_Final.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Sha256Ctx)]
        for function in (lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final):
            function.restype = ctypes.c_int
        return lib
    return None


_LIBCRYPTO = _load_libcrypto()


def checkpoints_supported() -> bool:
    return _LIBCRYPTO is not None


class _OpenSslSha256:
    def __init__(self, lib: ctypes.CDLL, ctx: _Sha256Ctx | None = None) -> None:
        self._lib = lib
        if ctx is None:
            ctx = _Sha256Ctx()
            if lib.SHA256_Init(ctypes.byref(ctx)) != 1:
                raise RuntimeError("SHA256_Init failed")
        self._ctx = ctx

    def update(self, data: bytes) -> None:
        if self._lib.SHA256_Update(ctypes.byref(self._ctx), data, len(data)) != 1:
            raise RuntimeError("SHA256_Update failed")

    def digest(self) -> bytes:
        # SHA256_Final consumes the context; finalise a copy so update() can go on.
        ctx = _Sha256Ctx.from_buffer_copy(self._ctx)
        out = ctypes.create_string_buffer(DIGEST_SIZE)
        if self._lib.SHA256_Final(out, ctypes.byref(ctx)) != 1:
            raise RuntimeError("SHA256_Final failed")
        return out.raw

    def checkpoint(self) -> str:
        return base64.b64encode(bytes(self._ctx)).decode("ascii")


class _HashlibSha256:
    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()

    def checkpoint(self) -> str:
        raise CheckpointUnavailable(
            "this runtime's libcrypto does not export SHA256_Init/Update/Final"
        )


def new_sha256(state: str | None = None) -> Sha256:
    """A fresh SHA-256, or one resumed from checkpoint() text."""
    if _LIBCRYPTO is None:
        if state is not None:
            raise CheckpointUnavailable("cannot resume a SHA-256 state without libcrypto")
        return _HashlibSha256()
    if state is None:
        return _OpenSslSha256(_LIBCRYPTO)
    return _OpenSslSha256(_LIBCRYPTO, _restore(state))


def check_state(state: str) -> None:
    """ValueError unless state is a well-formed checkpoint()."""
    _restore(state)


def _restore(state: str) -> _Sha256Ctx:
    try:
        raw = base64.b64decode(state, validate=True)
    except ValueError as error:
        raise ValueError("SHA-256 state is not base64") from error
    if len(raw) != _STATE_SIZE:
        raise ValueError(f"SHA-256 state has {len(raw)} bytes, expected {_STATE_SIZE}")
    ctx = _Sha256Ctx.from_buffer_copy(raw)
    # OpenSSL trusts these fields: num indexes the pending-block buffer, so an out-of-range value
    # from a tampered token would make SHA256_Update write past the struct.
    if ctx.num >= _BLOCK_SIZE or ctx.md_len != DIGEST_SIZE:
        raise ValueError("SHA-256 state is corrupt")
    return ctx
