"""``nextToken`` paging as our services answer it: at most ``maxResults`` items per page and a
token for the rest (the offset of the next item, which callers treat as opaque)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from xrdeploy_local_cloud.kit.errors import ServiceError

T = TypeVar("T")
INVALID_TOKEN = (
    "The next token was specified in an invalid format. Make sure that the next token you "
    "provide is the token returned by a previous call."
)


def page(
    items: Sequence[T], request: Mapping[str, Any], default_size: int = 100
) -> tuple[list[T], str | None]:
    """The page ``request`` asks for, and the ``nextToken`` of the next one (None on the last)."""
    token = request.get("nextToken")
    try:
        start = int(token or 0)
    except ValueError:
        raise ServiceError("InvalidNextTokenException", INVALID_TOKEN) from None
    if start < 0:
        raise ServiceError("InvalidNextTokenException", INVALID_TOKEN)
    end = start + int(request.get("maxResults") or default_size)
    return list(items[start:end]), (str(end) if end < len(items) else None)
