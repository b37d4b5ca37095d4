import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifelog.errors import UsageError
from lifelog.timespec import MAX_PAUSE, parse_duration, parse_range, parse_time, pause_seconds

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
    assert parse_time(spec, NOW) == local.astimezone(UTC).replace(tzinfo=None)


def test_a_bad_clock_time_is_named_as_typed():
    with pytest.raises(UsageError, match="Bad time '25:00'"):
        parse_time("25:00", NOW)


@pytest.mark.parametrize(
    "spec", ["99999999d", "9" * 30 + "d", "9" * 400 + "s", "0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"]
)
def test_a_time_out_of_range_is_a_usage_error(spec):
    with pytest.raises(UsageError, match=f"Bad (time|duration) '{re.escape(spec)}'"):
        parse_time(spec, NOW)


_SPECS = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda n, unit: f"{n}{unit}",
        st.one_of(st.integers(min_value=0), st.floats(min_value=0)),
        st.sampled_from(["s", "m", "h", "d", "w", "min", "sec", ""]),
    ),
    st.builds(
        lambda dt, zone: dt.isoformat() + zone, st.datetimes(), st.sampled_from(["", "Z", "+05:00", "-12:00", "+14:00"])
    ),
)


@settings(max_examples=200, deadline=None)
@given(_SPECS)
def test_any_spec_is_a_time_or_a_usage_error(spec):
    try:
        parsed = parse_time(spec, NOW)
    except UsageError as exc:
        assert len(str(exc).splitlines()) == 1
    else:
        assert isinstance(parsed, datetime) and parsed.tzinfo is None


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.floats(), st.integers(min_value=-(10**30), max_value=10**30)))
def test_a_pause_is_refused_unless_it_ends_within_the_limit(seconds):
    try:
        checked = pause_seconds(seconds)
    except UsageError:
        assert not 0 < seconds <= MAX_PAUSE.total_seconds()
    else:
        assert checked is None or 0 < checked <= MAX_PAUSE.total_seconds()
