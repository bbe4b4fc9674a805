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
    items: Sequence[T],
    request: Mapping[str, Any],
    default_size: int = 100,
    *,
    token_key: str = "nextToken",
    size_key: str = "maxResults",
) -> tuple[list[T], str | None]:
    """The page ``request`` asks for, and the token of the next one (None on the last).

    ``token_key``/``size_key`` name the request's fields where an API spells them otherwise
    (ListWebhooks: ``NextToken``, ``MaxResults``). A token we cannot have handed out (not an
    offset, or past the last item) is refused as AWS refuses it."""
    token = request.get(token_key)
    try:
        start = int(token or 0)
    except ValueError:
        raise ServiceError("InvalidNextTokenException", INVALID_TOKEN) from None
    if start < 0 or (start > 0 and start >= len(items)):
        raise ServiceError("InvalidNextTokenException", INVALID_TOKEN)
    end = start + int(request.get(size_key) or default_size)
    return list(items[start:end]), (str(end) if end < len(items) else None)
