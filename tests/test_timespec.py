from datetime import datetime, timedelta, timezone

import pytest

from lifelog.errors import UsageError
from lifelog.timespec import parse_duration, parse_range, parse_time

NOW = datetime(2026, 11, 24, 12, 0, 0)


@pytest.mark.parametrize("spec,delta", [("90s", 90), ("10m", 600), ("2h", 7200), ("3d", 3 * 86400), ("1.5h", 5400)])
def test_relative(spec, delta):
    assert parse_time(spec, NOW) == NOW - timedelta(seconds=delta)


def test_iso_with_zone_is_converted_to_utc():
    assert parse_time("2026-11-20T14:00:00+02:00", NOW) == datetime(2026, 11, 20, 12, 0)


@pytest.mark.parametrize("bad", ["banana", "10 parsecs", "", "-5m"])
def test_bad_specs_raise_usage_error(bad):
    with pytest.raises(UsageError, match="Bad time"):
        parse_time(bad, NOW)


def test_duration_and_range_order():
    assert parse_duration("2m") == timedelta(minutes=2)
    with pytest.raises(UsageError):
        parse_duration("soon")
    with pytest.raises(UsageError, match="must be after"):
        parse_range("5m", "10m", NOW)


@pytest.mark.parametrize("spec, clock", [("09:00", (9, 0, 0)), ("9:05", (9, 5, 0)), ("23:59:30", (23, 59, 30))])
def test_a_bare_clock_time_is_today_in_local_time(spec, clock):
    local = datetime.now().astimezone().replace(hour=clock[0], minute=clock[1], second=clock[2], microsecond=0)
    assert parse_time(spec, NOW) == local.astimezone(timezone.utc).replace(tzinfo=None)


def test_a_bad_clock_time_is_named_as_typed():
    with pytest.raises(UsageError, match="Bad time '25:00'"):
        parse_time("25:00", NOW)
