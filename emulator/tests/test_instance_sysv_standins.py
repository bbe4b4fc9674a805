"""The ``service`` and ``chkconfig`` stand-ins: what they hand to the ``systemctl`` stand-in and
what they print, as Amazon Linux 2023 does with systemd as init."""

from __future__ import annotations

from pathlib import Path

import pytest

from xrdeploy_local_cloud.instances import units
from xrdeploy_local_cloud.instances.standins import Forward, chkconfig, service, systemctl


@pytest.fixture
def httpd_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    unit_dir = tmp_path / "usr-lib-systemd-system"
    unit_dir.mkdir()
    (unit_dir / "httpd.service").write_text("[Service]\nExecStart=/usr/sbin/httpd\n")
    monkeypatch.setattr(units, "UNIT_DIRS", (unit_dir,))
    return unit_dir


def test_service_redirects_lsb_actions_to_systemctl() -> None:
    plan = service.redirect(["httpd", "start"])
    assert plan.systemctl == ("start", "httpd.service")
    assert plan.stderr == "Redirecting to /bin/systemctl start httpd.service\n"
    assert service.redirect(["httpd.service", "status"]).systemctl == ("status", "httpd.service")
    assert service.redirect(["httpd", "condrestart"]).systemctl == ("try-restart", "httpd.service")
    assert service.redirect(["httpd", "force-reload"]).systemctl == (
        "reload-or-restart",
        "httpd.service",
    )


def test_service_refuses_other_actions_and_missing_words_as_the_script_does() -> None:
    enable = service.redirect(["httpd", "enable"])
    assert (enable.systemctl, enable.code) == ((), 2)
    assert "supports only basic LSB actions" in enable.stderr
    usage = service.redirect(["httpd"])
    assert (usage.systemctl, usage.code) == ((), 1)
    assert usage.stderr.startswith("Usage: service")


def test_each_stand_in_says_it_is_one(capsys: pytest.CaptureFixture[str]) -> None:
    for main in (service.main, chkconfig.main, systemctl.main):
        assert main(["--version"]) == 0
        assert "stand-in" in capsys.readouterr().out


def test_chkconfig_on_and_off_forward_to_enable_and_disable(httpd_unit: Path) -> None:
    on = chkconfig.forward(["httpd", "on"])
    assert on.systemctl == ("enable", "httpd.service")
    assert on.stderr == "Note: Forwarding request to 'systemctl enable httpd.service'.\n"
    assert chkconfig.forward(["--level", "345", "httpd", "off"]).systemctl == (
        "disable",
        "httpd.service",
    )
    assert chkconfig.forward(["httpd"]) == Forward(("is-enabled", "--quiet", "httpd.service"))


def test_chkconfig_knows_no_service_without_a_unit(httpd_unit: Path) -> None:
    unknown = chkconfig.forward(["nginx", "on"])
    assert (unknown.systemctl, unknown.code) == ((), 1)
    assert unknown.stderr == (
        "error reading information on service nginx: No such file or directory\n"
    )
    assert chkconfig.forward(["--add", "httpd"]).code == 1  # init scripts only


def test_chkconfig_list_shows_sysv_services_only(httpd_unit: Path) -> None:
    everything = chkconfig.forward(["--list"])
    assert (everything.code, everything.systemctl) == (0, ())
    assert "SysV services only" in everything.stdout
    one = chkconfig.forward(["--list", "httpd"])
    assert one.code == 1
    assert one.stderr.startswith("error reading information on service httpd")


def test_forward_runs_systemctl_after_printing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[list[str]] = []

    def fake_systemctl(argv: list[str]) -> int:
        ran.append(argv)
        return 0

    monkeypatch.setattr(systemctl, "main", fake_systemctl)
    assert service.main(["httpd", "restart"]) == 0
    assert ran == [["restart", "httpd.service"]]
    assert "Redirecting to /bin/systemctl restart httpd.service" in capsys.readouterr().err
