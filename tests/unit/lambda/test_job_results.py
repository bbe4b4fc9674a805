"""What is sent to CodePipeline for an outcome (pure, no AWS)."""

from __future__ import annotations

from job_results import MAX_SUMMARY, one_line, success_details
from outcomes import Completed, Paused


def test_a_completed_promotion_is_100_percent_and_names_its_version() -> None:
    # GIVEN / WHEN
    details, extra = success_details(Completed("Promoted", "v1", False, 1, 1))

    # THEN
    assert details == {"summary": "Promoted", "percentComplete": 100, "externalExecutionId": "v1"}
    assert extra == {}


def test_a_paused_promotion_hands_back_its_token() -> None:
    # GIVEN / WHEN
    details, extra = success_details(Paused("tok", "Promoting", 66, 1, 1))

    # THEN
    assert details == {"summary": "Promoting", "percentComplete": 66}
    assert extra == {"continuationToken": "tok"}


def test_texts_are_one_line_within_codepipelines_limit() -> None:
    # GIVEN / WHEN / THEN whitespace runs collapse, and a long text is cut with an ellipsis
    assert one_line("a\n  b\tc", 10) == "a b c"
    cut = one_line("x" * (MAX_SUMMARY + 1), MAX_SUMMARY)
    assert len(cut) == MAX_SUMMARY and cut.endswith("...")
