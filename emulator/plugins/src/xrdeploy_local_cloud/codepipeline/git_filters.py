"""Which pushes start a pipeline (pure): V2 ``triggers[].gitConfiguration.push[]`` filters.

Patterns are AWS's glob syntax (CodePipeline user guide, "Working with glob patterns in
syntax"): ``*`` is any run of characters within one path component, ``**`` any run across
``/``, ``?`` one character, ``[...]`` one of a set (``[!...]`` none of it; ``*``, ``?`` and
``\\`` stand for themselves inside), ``{a,b}`` either sub-pattern (not nested), ``\\`` escapes.

A push matches a trigger when one of its ``push`` filters matches: a branch push the filter's
``branches`` admit (a tag push its ``tags``), and, where the filter has ``filePaths``, at least one
changed file they admit. Criteria admit a name that matches an include (every name when there are
none) and no exclude: excludes win.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"


@dataclasses.dataclass(frozen=True)
class Push:
    """One reference a push moved: its full name and the paths its commits changed."""

    ref: str
    changed_paths: tuple[str, ...]

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix(BRANCH_PREFIX) if self.ref.startswith(BRANCH_PREFIX) else None

    @property
    def tag(self) -> str | None:
        return self.ref.removeprefix(TAG_PREFIX) if self.ref.startswith(TAG_PREFIX) else None


@functools.cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of one AWS glob pattern, matching whole names."""
    out, i, in_group = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            i = _bracket(pattern, i, out)
            continue
        elif char == "{" and not in_group:
            out.append("(?:")
            in_group = True
        elif char == "}" and in_group:
            out.append(")")
            in_group = False
        elif char == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + ("" if not in_group else ")"), re.DOTALL)


def _bracket(pattern: str, start: int, out: list[str]) -> int:
    """Append the set starting at ``pattern[start] == '['``; return the index after it. A
    ``[`` without its ``]`` (or of an empty set) stands for itself."""
    first = start + 2 if pattern[start + 1 : start + 2] == "!" else start + 1
    end = pattern.find("]", first)
    if end <= first:  # no "]", or an empty set
        out.append(re.escape("["))
        return start + 1
    body = pattern[start + 1 : end]
    negate = body.startswith("!")
    body = body[1:] if negate else body
    escaped = "".join("\\" + c if c in "\\^]" else c for c in body)
    if escaped.startswith("-"):
        escaped = "\\" + escaped
    out.append(f"[{'^' if negate else ''}{escaped}]")
    return end + 1


def glob_matches(pattern: str, name: str) -> bool:
    return glob_regex(pattern).fullmatch(name) is not None


def admits(criteria: Mapping[str, Sequence[str]] | None, name: str) -> bool:
    """Whether ``{includes, excludes}`` admit ``name`` (no criteria admit every name)."""
    if not criteria:
        return True
    includes, excludes = criteria.get("includes") or (), criteria.get("excludes") or ()
    if any(glob_matches(p, name) for p in excludes):
        return False
    return not includes or any(glob_matches(p, name) for p in includes)


def _admits_any(criteria: Mapping[str, Sequence[str]], names: Iterable[str]) -> bool:
    return any(admits(criteria, name) for name in names)


def push_filter_matches(push_filter: Mapping[str, Any], push: Push) -> bool:
    if push.branch is not None:
        if "branches" not in push_filter or not admits(push_filter["branches"], push.branch):
            return False
    elif push.tag is not None:
        if "tags" not in push_filter or not admits(push_filter["tags"], push.tag):
            return False
    else:
        return False
    paths = push_filter.get("filePaths")
    return not paths or _admits_any(paths, push.changed_paths)


def trigger_matches(git_configuration: Mapping[str, Any], push: Push) -> bool:
    """Whether a trigger's ``gitConfiguration`` starts its pipeline on ``push``."""
    return any(push_filter_matches(f, push) for f in git_configuration.get("push") or ())


def start_trigger(
    declaration: Mapping[str, Any], action: Mapping[str, Any], push: Push
) -> str | None:
    """How ``push`` starts the pipeline through its source ``action`` (the execution's trigger
    type), or None when it does not.

    A V2 trigger on the action decides alone (``WebhookV2``); without one, the action's
    ``DetectChanges`` (true unless set to false) starts it on a push to ``BranchName``
    (``Webhook``)."""
    triggers = [
        t["gitConfiguration"]
        for t in declaration.get("triggers") or ()
        if t.get("providerType") == "CodeStarSourceConnection"
        and t.get("gitConfiguration", {}).get("sourceActionName") == action["name"]
    ]
    if triggers:
        return "WebhookV2" if any(trigger_matches(t, push) for t in triggers) else None
    config = action.get("configuration", {})
    if str(config.get("DetectChanges", "true")).lower() == "false":
        return None
    return (
        "Webhook" if push.branch is not None and push.branch == config.get("BranchName") else None
    )
