"""The DeploymentWindow rule's cron expressions (Quartz syntax, as CodePipeline documents it)."""

from __future__ import annotations

import datetime

import pytest

from xrdeploy_local_cloud.codepipeline import cron

UTC = datetime.UTC


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_business_hours_on_weekdays() -> None:
    window = cron.parse("0 0-59 9-17 ? * MON-FRI *")
    assert window.contains(at(2026, 12, 1, 9, 0))  # a Tuesday
    assert window.contains(at(2026, 12, 1, 17, 59))
    assert not window.contains(at(2026, 12, 1, 18, 0))
    assert not window.contains(at(2026, 12, 1, 8, 59))
    assert not window.contains(at(2026, 12, 5, 12, 0))  # a Saturday


def test_the_window_is_read_in_its_time_zone() -> None:
    window = cron.parse("* * 9-10 ? * * *", "Europe/Berlin")
    assert window.contains(at(2026, 12, 1, 8, 30))  # 09:30 in Berlin (UTC+1 in winter)
    assert not window.contains(at(2026, 12, 1, 10, 30))  # 11:30 in Berlin
    assert cron.parse("* * 9-10 ? * * *", "Europe/Berlin").contains(at(2026, 7, 1, 7, 30))


def test_day_of_week_numbers_count_from_sunday() -> None:
    sunday_only = cron.parse("* * * ? * 1")
    assert sunday_only.contains(at(2026, 12, 6))  # a Sunday
    assert not sunday_only.contains(at(2026, 12, 7))
    assert cron.parse("* * * ? * L").contains(at(2026, 12, 5))  # L alone: Saturday


def test_increments_lists_and_month_names() -> None:
    window = cron.parse("0 0/15 8,20 ? JAN-MAR,DEC * *")
    assert window.contains(at(2026, 12, 1, 8, 45))
    assert not window.contains(at(2026, 12, 1, 8, 46))
    assert window.contains(at(2026, 2, 2, 20, 0))
    assert not window.contains(at(2026, 4, 1, 8, 0))


def test_last_days_nearest_weekdays_and_nth_weekdays() -> None:
    assert cron.parse("* * * L * ?").contains(at(2028, 2, 29))  # leap year
    assert not cron.parse("* * * L * ?").contains(at(2028, 2, 28))
    assert cron.parse("* * * L-2 * ?").contains(at(2026, 12, 29))
    # 2026-08-15 is a Saturday: 15W is Friday the 14th; 2026-08-01 (Saturday): 1W is Monday 3rd
    assert cron.parse("* * * 15W * ?").contains(at(2026, 8, 14))
    assert cron.parse("* * * 1W * ?").contains(at(2026, 8, 3))
    assert cron.parse("* * * LW * ?").contains(at(2026, 5, 29))  # May 31st 2026 is a Sunday
    assert cron.parse("* * * ? * 6L").contains(at(2026, 12, 25))  # last Friday of December
    assert not cron.parse("* * * ? * 6L").contains(at(2026, 12, 18))
    assert cron.parse("* * * ? * 2#1").contains(at(2026, 12, 7))  # first Monday
    assert not cron.parse("* * * ? * 2#1").contains(at(2026, 12, 14))


def test_the_optional_year_field() -> None:
    assert cron.parse("* * * * * ? 2026").contains(at(2026, 12, 1))
    assert not cron.parse("* * * * * ? 2199").contains(at(2026, 12, 1))
    assert cron.parse("* * * * * ?").contains(at(2026, 12, 1))


@pytest.mark.parametrize(
    ("expression", "time_zone", "message"),
    [
        ("* * * * *", None, "must have 6 or 7 fields"),
        ("* 60 * * * ?", None, "minutes field: 60 is outside 0-59"),
        ("* * * ? * ?", None, "cannot both be '?'"),
        ("* * 18-9 ? * *", None, "runs backwards"),
        ("* * * ? * MON#6", None, "needs #1 to #5"),
        ("* * * ? * FUNDAY", None, "'FUNDAY' is not a value"),
        ("* * * ? * *", "Mars/Olympus", "'Mars/Olympus' is not a known time zone"),
    ],
)
def test_invalid_expressions_name_their_field(
    expression: str, time_zone: str | None, message: str
) -> None:
    with pytest.raises(cron.CronError, match=message):
        cron.parse(expression, time_zone)
