"""The pure on-call rules: precedence, gaps, rotations across daylight saving, times typed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from console.domain.errors import InvalidInputError
from console.domain.freshness import describe_age
from console.domain.oncall import (
    Gap,
    ReachKind,
    ReachMethod,
    Shift,
    coverage_gaps,
    horizon_warning,
    level_offsets,
    on_duty,
    parse_at,
    rotation,
    zone,
)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_override_wins_over_every_layer() -> None:
    shifts = [
        Shift(h(-12), h(12), "Layer one", priority=0),
        Shift(h(-12), h(12), "Layer two", priority=5),
        Shift(h(-1), h(1), "Override", override=True),
    ]
    assert [s.person for s in on_duty(shifts, T0)] == ["Override"]
    assert [s.person for s in on_duty(shifts, h(2))] == ["Layer two"]


def test_same_layer_people_are_all_on_call_and_ends_are_exclusive() -> None:
    shifts = [Shift(h(0), h(8), "B"), Shift(h(0), h(8), "A"), Shift(h(-8), h(0), "Before")]
    assert [s.person for s in on_duty(shifts, T0)] == ["A", "B"]
    assert [s.person for s in on_duty(shifts, h(-0.001))] == ["Before"]
    assert on_duty(shifts, h(8)) == []


def test_coverage_gaps_merge_overlaps_and_report_edges() -> None:
    intervals = [(h(1), h(3)), (h(2), h(4)), (h(6), h(7)), (h(-5), h(0.5))]
    assert coverage_gaps(intervals, h(0), h(10)) == [
        Gap(h(0.5), h(1)),
        Gap(h(4), h(6)),
        Gap(h(7), h(10)),
    ]
    assert coverage_gaps([], h(0), h(1)) == [Gap(h(0), h(1))]
    assert coverage_gaps([(h(-1), h(11))], h(0), h(10)) == []


def test_level_offsets_add_up_the_waits() -> None:
    assert level_offsets([10, 15, 30]) == [0, 10, 25]
    assert level_offsets([]) == []


def test_horizon_warning_under_three_days() -> None:
    assert horizon_warning(h(24 * 3), T0) is None
    assert "2 days" in str(horizon_warning(h(24 * 2.5), T0))
    assert "5 h" in str(horizon_warning(h(5), T0))
    assert "ended" in str(horizon_warning(h(-30), T0))
    assert "no shifts cached" in str(horizon_warning(None, T0))


def test_reach_urls() -> None:
    mobile = ReachMethod(ReachKind.MOBILE, "07911 123456", e164="+447911123456")
    sms = ReachMethod(ReachKind.SMS, "+44 7911 123456", e164="+447911123456")
    mail = ReachMethod(ReachKind.EMAIL, "a@b.example")
    chat = ReachMethod(ReachKind.CHAT, "@a")
    bad = ReachMethod(ReachKind.MOBILE, "call reception", problem="not a phone number")
    assert mobile.url == "tel:+447911123456"
    assert sms.url == "sms:+447911123456"
    assert mail.url == "mailto:a@b.example"
    assert chat.url is None
    assert bad.url is None
    assert mobile.copy_text == "+447911123456"
    assert bad.display == "call reception"


# ------------------------------------------------------------ daylight saving

#: (zone, a day before a change, the change's direction: hours the 09:00→09:00 day lasts)
DST_DAYS = [
    ("Europe/London", datetime(2026, 3, 28), 23),  # clocks forward 29 March
    ("Europe/London", datetime(2026, 10, 24), 25),  # back 25 October
    ("America/New_York", datetime(2026, 3, 7), 23),  # forward 8 March
    ("America/New_York", datetime(2026, 10, 31), 25),  # back 1 November
    ("Australia/Sydney", datetime(2026, 4, 4), 25),  # back 5 April (southern autumn)
    ("Australia/Sydney", datetime(2026, 10, 3), 23),  # forward 4 October
    ("Asia/Kolkata", datetime(2026, 3, 28), 24),  # no daylight saving
]


@pytest.mark.parametrize(("name", "day", "hours"), DST_DAYS)
def test_daily_handover_stays_at_nine_local_across_dst(
    name: str, day: datetime, hours: int
) -> None:
    tz = ZoneInfo(name)
    start = day.replace(hour=12, tzinfo=tz).astimezone(UTC)
    shifts = rotation(
        ["Ana", "Ben"],
        zone=tz,
        handoff=time(9),
        every=timedelta(days=1),
        start=start,
        end=start + timedelta(days=3),
    )
    assert {s.start.astimezone(tz).hour for s in shifts} == {9}
    assert shifts[0].start.astimezone(tz).date() == day.date()  # the shift covering start
    lengths = [int((s.end - s.start).total_seconds() // 3600) for s in shifts]
    assert lengths[0] == hours  # the day of the change is 23 or 25 hours long
    assert lengths[1:-1] == [24] * (len(lengths) - 2)
    assert shifts[-1].end == start + timedelta(days=3)  # the last one stops at the window's end
    assert [s.person for s in shifts[:3]] == ["Ana", "Ben", "Ana"]
    # 08:59 local the morning after the change is still the first shift; 09:00 the next
    morning = (day + timedelta(days=1)).replace(hour=8, minute=59, tzinfo=tz)
    assert [s.person for s in on_duty(shifts, morning.astimezone(UTC))] == ["Ana"]
    assert [s.person for s in on_duty(shifts, (morning + timedelta(minutes=1)))] == ["Ben"]


def test_a_fixed_step_rotation_ignores_the_wall_clock() -> None:
    tz = ZoneInfo("Europe/London")
    start = datetime(2026, 10, 24, 12, tzinfo=tz).astimezone(UTC)
    shifts = rotation(
        ["A"], zone=tz, handoff=time(9), every=timedelta(hours=12), start=start,
        end=start + timedelta(days=2),
    )  # fmt: skip
    assert {s.end - s.start for s in shifts[:-1]} == {timedelta(hours=12)}


def test_business_hours_rotation_leaves_nights_uncovered() -> None:
    tz = ZoneInfo("Asia/Kolkata")
    start = datetime(2026, 11, 2, 10, tzinfo=tz).astimezone(UTC)
    shifts = rotation(
        ["A"], zone=tz, handoff=time(9, 30), every=timedelta(days=1), start=start,
        end=start + timedelta(days=2), length=timedelta(hours=9),
    )  # fmt: skip
    gaps = coverage_gaps([(s.start, s.end) for s in shifts], start, shifts[-1].end)
    assert [(g.start.astimezone(tz).hour, g.duration) for g in gaps] == [
        (18, timedelta(hours=15)),
        (18, timedelta(hours=15)),
    ]
    with pytest.raises(ValueError, match="positive"):
        rotation(["A"], zone=tz, handoff=time(9), every=timedelta(0), start=start, end=start)
    assert rotation([], zone=tz, handoff=time(9), every=timedelta(1), start=start, end=start) == []


# ------------------------------------------------------------------- typed times

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_parse_at_reads_offsets_local_times_and_now() -> None:
    london = zone("Europe/London")
    assert parse_at("now", now=NOW, tz=london) == NOW
    assert parse_at("", now=NOW) == NOW
    assert parse_at("2026-11-28T02:00+01:00", now=NOW) == datetime(2026, 11, 28, 1, tzinfo=UTC)
    assert parse_at("2026-07-01 02:00", now=NOW, tz=london) == datetime(2026, 7, 1, 1, tzinfo=UTC)
    assert parse_at("2026-11-28T02:00", now=NOW, tz=zone("Australia/Sydney")) == datetime(
        2026, 11, 27, 15, tzinfo=UTC
    )
    # happens twice when the clocks go back: the first one (still summer time)
    assert parse_at("2026-10-25T01:30", now=NOW, tz=london) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_parse_at_refuses_times_that_do_not_exist_or_are_not_times() -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        parse_at("2026-03-29T01:30", now=NOW, tz=zone("Europe/London"))
    with pytest.raises(InvalidInputError, match="does not exist"):
        parse_at("2026-03-08T02:30", now=NOW, tz=zone("America/New_York"))
    with pytest.raises(InvalidInputError, match="not a time"):
        parse_at("Saturday 2am", now=NOW)
    with pytest.raises(InvalidInputError, match="unknown time zone"):
        zone("Mars/Olympus")


def test_describe_age_for_people() -> None:
    assert describe_age(None, NOW) == "never"
    assert describe_age(NOW - timedelta(hours=2, minutes=5), NOW) == "2 h ago"
