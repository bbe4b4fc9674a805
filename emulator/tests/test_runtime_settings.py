"""Run-time settings of the local cloud: overrides over LocalStack's environment (no cloud)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from xrdeploy_local_cloud.settings.store import InvalidSetting, RuntimeSettings


def test_values_start_from_the_environment_and_unset_numbers_are_null() -> None:
    store = RuntimeSettings(
        {"XRDEPLOY_ENFORCE_IAM": "0", "XRDEPLOY_CODEPIPELINE_WAIT_SCALE": "0.25"}
    )
    assert store.describe() == {
        "enforce_trust": True,
        "enforce_kms_state": True,
        "enforce_iam": False,
        "codepipeline_wait_scale": 0.25,
        "codepipeline_job_timeout_seconds": None,
        "codepipeline_approval_timeout_seconds": None,
        "codepipeline_poll_seconds": None,
    }


def test_a_change_overrides_the_variable_until_reset() -> None:
    store = RuntimeSettings({"XRDEPLOY_CODEPIPELINE_WAIT_SCALE": "0.25"})
    # WHEN the wait scale and a switch change
    store.update({"codepipeline_wait_scale": 0.05, "enforce_trust": False})
    # THEN readers see the new text, the rest stays
    assert store.value("XRDEPLOY_CODEPIPELINE_WAIT_SCALE") == "0.05"
    assert store.environ()["XRDEPLOY_ENFORCE_TRUST"] == "0"
    # AND null puts one back, reset puts all back
    assert store.update({"codepipeline_wait_scale": None})["codepipeline_wait_scale"] == 0.25
    assert store.reset()["enforce_trust"] is True
    assert store.value("XRDEPLOY_ENFORCE_TRUST") is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"enforce_trust": False, "enforce_iam": "no"}, "enforce_iam must be true or false"),
        (
            {"enforce_trust": False, "codepipeline_wait_scale": 0},
            "codepipeline_wait_scale must be a positive number",
        ),
        (
            {"enforce_trust": False, "codepipeline_poll_seconds": True},
            "codepipeline_poll_seconds must be a positive",
        ),
        (
            {"enforce_trust": False, "wait_scale": 1},
            "unknown setting(s) wait_scale; known: enforce_trust",
        ),
        ({}, "send a JSON object of settings"),
        ([1], "send a JSON object of settings"),
    ],
)
def test_a_bad_change_is_refused_with_the_setting_named_and_nothing_changes(
    changes: object, reason: str
) -> None:
    store = RuntimeSettings({})
    with pytest.raises(InvalidSetting) as refused:
        store.update(changes)
    assert reason in str(refused.value)
    assert store.describe()["enforce_trust"] is True


def test_a_listener_sees_the_new_environment_and_can_refuse_it() -> None:
    store = RuntimeSettings({"XRDEPLOY_ENFORCE_IAM": "0"})
    seen: list[Mapping[str, str]] = []

    def guard(environ: Mapping[str, str]) -> None:
        seen.append(environ)
        if environ.get("XRDEPLOY_ENFORCE_IAM") == "1":
            raise ValueError("enforce_iam: not started with it")

    store.subscribe(guard)
    store.update({"enforce_kms_state": False})
    assert seen[-1]["XRDEPLOY_ENFORCE_KMS_STATE"] == "0"
    with pytest.raises(ValueError, match="not started with it"):
        store.update({"enforce_iam": True, "enforce_trust": False})
    assert store.describe()["enforce_trust"] is True
    assert store.describe()["enforce_kms_state"] is False
