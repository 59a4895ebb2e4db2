"""services.notifications.timing: the back-off after failures and the end
of quiet hours, over midnight and across DST changes."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.notifications.timing import BASE_S, CAP_S, backoff, is_quiet, quiet_until

# zones with a spring-forward gap and a fall-back fold (Lord Howe moves by 30 minutes,
# Sao Paulo changed at midnight until 2019), and Shanghai, which has none
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo"]
SHANGHAI, NEW_YORK, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")

hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31),
                       timezones=st.just(timezone.utc))


def transitions(zone: str, years=range(2016, 2030)) -> list[datetime]:
    """The instants (to the hour) the zone's offset changed: where gaps and folds are."""
    tz, found = ZoneInfo(zone), []
    day = datetime(years[0], 1, 1, tzinfo=timezone.utc)
    while day.year < years[-1]:
        if day.astimezone(tz).utcoffset() != (day + timedelta(days=1)).astimezone(tz).utcoffset():
            found += [day + timedelta(hours=h + 1) for h in range(24)
                      if (day + timedelta(hours=h)).astimezone(tz).utcoffset()
                      != (day + timedelta(hours=h + 1)).astimezone(tz).utcoffset()]
        day += timedelta(days=1)
    return found


TRANSITIONS = {zone: transitions(zone) for zone in ZONES}


@st.composite
def zone_and_moment(draw):
    """A zone, and a moment within a day and a half of one of its DST changes (or anywhere)."""
    zone = draw(st.sampled_from(ZONES))
    if not TRANSITIONS[zone] or draw(st.booleans()):
        return zone, draw(moments)
    change = draw(st.sampled_from(TRANSITIONS[zone]))
    return zone, change + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)), seconds=draw(st.integers(0, 59)))


@given(attempts=st.integers(1, 200), rand=st.floats(0, 1, exclude_max=True))
def test_a_backoff_lies_between_zero_and_its_capped_ceiling(attempts, rand):
    wait = backoff(attempts, lambda: rand)
    assert 0 <= wait <= min(CAP_S, BASE_S * 2 ** (attempts - 1))


def test_the_ceiling_doubles_from_two_seconds_to_ten_minutes():
    ceilings = [backoff(n, lambda: 0.999999) for n in range(1, 12)]
    assert [round(c) for c in ceilings] == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]


def test_full_jitter_spreads_waits_over_the_whole_range():
    assert backoff(5, lambda: 0.0) == 0 and backoff(5, lambda: 0.5) == 16


@given(where=zone_and_moment(), start=hhmm, end=hhmm)
def test_quiet_hours_end_at_the_first_moment_that_is_not_quiet(where, start, end):
    zone, moment = ZoneInfo(where[0]), where[1]
    until = quiet_until(moment, start, end, zone)
    if until is None:
        assert not is_quiet(moment, start, end, zone)
        return
    assert until > moment and not is_quiet(until, start, end, zone)
    assert until - moment <= timedelta(days=2)
    span = until - moment  # every moment in between is quiet (sampled)
    assert all(is_quiet(moment + span * step / 16, start, end, zone) for step in range(16))
    assert is_quiet(until - timedelta(microseconds=1), start, end, zone)


@given(moment=moments, start=hhmm, zone=st.sampled_from(ZONES))
def test_a_window_that_starts_where_it_ends_is_never_quiet(moment, start, zone):
    assert quiet_until(moment, start, start, ZoneInfo(zone)) is None


def at(zone, *args, fold=0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(timezone.utc)


def test_a_night_window_runs_over_midnight_in_the_stores_time():
    assert quiet_until(at(SHANGHAI, 2026, 11, 30, 23, 10), "22:00", "07:00", SHANGHAI) == at(SHANGHAI, 2026, 12, 1, 7, 0)
    assert quiet_until(at(SHANGHAI, 2026, 12, 1, 6, 59), "22:00", "07:00", SHANGHAI) == at(SHANGHAI, 2026, 12, 1, 7, 0)
    assert quiet_until(at(SHANGHAI, 2026, 12, 1, 7, 0), "22:00", "07:00", SHANGHAI) is None
    assert quiet_until(at(SHANGHAI, 2026, 12, 1, 21, 59), "22:00", "07:00", SHANGHAI) is None


def test_an_end_inside_the_spring_forward_gap_is_the_instant_the_clock_jumps():
    # New York, 8 March 2026: 02:00 EST becomes 03:00 EDT; 02:30 does not exist
    assert quiet_until(at(NEW_YORK, 2026, 3, 8, 1, 50), "22:00", "02:30", NEW_YORK) == \
        datetime(2026, 3, 8, 7, 0, tzinfo=timezone.utc)


def test_the_clock_jumping_into_the_window_again_keeps_it_quiet():
    # 02:45-02:30 leaves only 02:30-02:45 loud, which does not exist that night
    until = quiet_until(at(NEW_YORK, 2026, 3, 8, 1, 50), "02:45", "02:30", NEW_YORK)
    assert until == at(NEW_YORK, 2026, 3, 9, 2, 30)


def test_an_end_inside_the_fall_back_fold_ends_each_pass_through_the_window():
    # Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:00-03:00 happens twice
    first = at(BERLIN, 2026, 10, 25, 2, 10, fold=0)
    assert quiet_until(first, "01:00", "02:30", BERLIN) == at(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    second = at(BERLIN, 2026, 10, 25, 2, 10, fold=1)
    assert second - first == timedelta(hours=1)
    assert quiet_until(second, "01:00", "02:30", BERLIN) == at(BERLIN, 2026, 10, 25, 2, 30, fold=1)
