"""Resource tags as our services take and answer them: a dict per resource inside, the API's list
of key/value objects outside, whose field names differ by service."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping


@dataclasses.dataclass(frozen=True)
class TagFields:
    """How an API spells a tag's two fields."""

    key: str
    value: str


CODEPIPELINE = TagFields("key", "value")
CODEDEPLOY = TagFields("Key", "Value")


def tags_of(entries: Iterable[Mapping[str, str]] | None, fields: TagFields) -> dict[str, str]:
    """A request's tag list as a dict (a missing value is the empty string, as on AWS)."""
    return {entry[fields.key]: entry.get(fields.value, "") for entry in entries or []}


def tag_list(tags: Mapping[str, str], fields: TagFields) -> list[dict[str, str]]:
    """A resource's tags as the API lists them, ordered by key."""
    return [{fields.key: key, fields.value: value} for key, value in sorted(tags.items())]
