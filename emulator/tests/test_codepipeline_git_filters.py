"""Which pushes start a pipeline: AWS's glob patterns and V2 push filters (``git_filters``)."""

from __future__ import annotations

from typing import Any

import pytest

from xrdeploy_local_cloud.codepipeline.git_filters import (
    Push,
    admits,
    glob_matches,
    start_trigger,
    trigger_matches,
)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.java", "Main.java", True),
        ("*.java", "src/Main.java", False),  # * stays within one path component
        ("**.java", "src/Main.java", True),  # ** crosses directory boundaries
        ("src/**", "src/a/b.py", True),
        ("src/*", "src/a/b.py", False),
        ("*.{java,class}", "Main.class", True),
        ("foo.?", "foo.c", True),
        ("foo.?", "foo.cc", False),
        ("[abc]x", "bx", True),
        ("[!abc]x", "bx", False),
        ("[!abc]x", "dx", True),
        ("[-a]", "-", True),
        ("a\\*", "a*", True),
        ("a\\*", "ab", False),
        ("release/*", "release/1.0", True),
        ("release/*", "release/1/0", False),
        ("main", "main", True),
        ("main", "maint", False),
        ("[*]", "*", True),
        ("a[", "a[", True),
    ],
)
def test_glob_patterns_follow_awss_rules(pattern: str, name: str, expected: bool) -> None:
    assert glob_matches(pattern, name) is expected


def test_excludes_win_over_includes_and_no_includes_admit_everything() -> None:
    criteria = {"includes": ["release/**"], "excludes": ["release/old/**"]}
    assert admits(criteria, "release/1.0")
    assert not admits(criteria, "release/old/1.0")
    assert not admits(criteria, "main")
    assert admits({"excludes": ["wip/*"]}, "main")
    assert not admits({"excludes": ["wip/*"]}, "wip/x")
    assert admits(None, "anything")


def test_a_branch_push_needs_the_filters_branches_and_one_admitted_changed_path() -> None:
    # GIVEN a trigger on main for changes under app/ that are not docs
    git = {
        "sourceActionName": "Source",
        "push": [
            {
                "branches": {"includes": ["main"]},
                "filePaths": {"includes": ["app/**"], "excludes": ["**.md"]},
            }
        ],
    }
    # THEN only a push to main that changed an admitted file matches
    assert trigger_matches(git, Push("refs/heads/main", ("app/run.py", "README.md")))
    assert not trigger_matches(git, Push("refs/heads/main", ("app/NOTES.md",)))
    assert not trigger_matches(git, Push("refs/heads/main", ("docs/x.py",)))
    assert not trigger_matches(git, Push("refs/heads/dev", ("app/run.py",)))
    # AND a tag push needs a tags filter
    assert not trigger_matches(git, Push("refs/tags/v1", ("app/run.py",)))


def test_any_push_filter_of_a_trigger_may_match() -> None:
    git = {
        "push": [
            {"branches": {"includes": ["main"]}},
            {"tags": {"includes": ["v*"]}},
        ]
    }
    assert trigger_matches(git, Push("refs/tags/v1.2", ()))
    assert trigger_matches(git, Push("refs/heads/main", ()))
    assert not trigger_matches(git, Push("refs/tags/nightly", ()))


ACTION = {"name": "Source", "configuration": {"BranchName": "main"}}


def _declaration(*triggers: dict[str, Any]) -> dict[str, Any]:
    return {"triggers": list(triggers)}


def test_a_v2_trigger_on_the_action_decides_alone() -> None:
    trigger = {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {
            "sourceActionName": "Source",
            "push": [{"branches": {"includes": ["release/*"]}}],
        },
    }
    declaration = _declaration(trigger)
    assert start_trigger(declaration, ACTION, Push("refs/heads/release/2", ())) == "WebhookV2"
    # the action's own branch is not enough once a trigger filters
    assert start_trigger(declaration, ACTION, Push("refs/heads/main", ())) is None


def test_without_a_trigger_change_detection_starts_on_the_actions_branch() -> None:
    assert start_trigger(_declaration(), ACTION, Push("refs/heads/main", ())) == "Webhook"
    assert start_trigger(_declaration(), ACTION, Push("refs/heads/dev", ())) is None
    quiet = {"name": "Source", "configuration": {"BranchName": "main", "DetectChanges": "false"}}
    assert start_trigger(_declaration(), quiet, Push("refs/heads/main", ())) is None


def test_a_trigger_for_another_action_leaves_change_detection_to_this_one() -> None:
    other = {
        "providerType": "CodeStarSourceConnection",
        "gitConfiguration": {"sourceActionName": "Other", "push": []},
    }
    assert start_trigger(_declaration(other), ACTION, Push("refs/heads/main", ())) == "Webhook"
