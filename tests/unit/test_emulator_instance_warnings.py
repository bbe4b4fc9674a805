"""`python -m emulator up` says in one line, before anything is deployed, why local EC2 instances
cannot run on this host; `status` and `instances` print each instance's set-up warnings."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import __main__ as cli
from emulator.local_cloud import RunningCloud

CLOUD = RunningCloud("http://127.0.0.1:4566", 4242, "/tmp/x/localstack.log", "/tmp/x")


def _answering(listing: dict[str, Any]) -> Any:
    def call(endpoint: str, method: str, path: str) -> dict[str, Any]:
        assert (endpoint, method, path) == (CLOUD.endpoint, "GET", cli.INSTANCES_PATH)
        return listing

    return call


def test_up_warns_in_one_line_with_the_hosts_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = "`newuidmap` is not installed (fix: sudo apt-get install uidmap)"
    monkeypatch.setattr(cli, "start_local_cloud", lambda port: CLOUD)
    monkeypatch.setattr(cli, "call", _answering({"unsupported_reason": reason, "instances": []}))
    assert cli.main(["up"]) == 0
    assert capsys.readouterr().err == (
        f"warning: local EC2 instances cannot run on this host: {reason}\n"
    )


def test_up_says_nothing_more_where_instances_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "start_local_cloud", lambda port: CLOUD)
    monkeypatch.setattr(cli, "call", _answering({"unsupported_reason": None, "instances": []}))
    assert cli.main(["up"]) == 0
    assert capsys.readouterr().err == ""


def test_status_prints_each_instance_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = {
        "instance_id": "i-0abc",
        "warnings": ["/etc: mount refused; the instance gets an empty /etc"],
    }
    monkeypatch.setattr(cli, "running_cloud", lambda: CLOUD)
    monkeypatch.setattr(
        cli, "call", _answering({"unsupported_reason": None, "instances": [instance]})
    )
    assert cli.main(["status"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "warning: local instance i-0abc: /etc: mount refused; the instance gets an empty /etc"
    ]
