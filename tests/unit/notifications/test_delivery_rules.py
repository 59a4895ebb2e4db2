"""The delivery engine's rules without a database: how many of a channel's
deliveries may go now (rate limits, a receiver's pause, the circuit), what
an answer does to the circuit, and how a channel's URL is masked."""
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from services.notifications.channels import RATE_LIMITED, REFUSED, RETRY, SENT, Outcome
from services.notifications.engine import CIRCUIT_FAILURES, CIRCUIT_OPEN, admit, circuit_state, rate_of, trip
from services.notifications.models import StoreChannel
from services.notifications.store_channels import mask_url

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)


def channel(kind="wecom", **state) -> StoreChannel:
    return StoreChannel(**dict(dict(type=kind, circuit="closed", failures=0, open_until=None, paused_until=None),
                               **state))


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_each_robot_has_its_vendors_rate_and_other_channels_none():
    assert (rate_of("wecom"), rate_of("dingtalk"), rate_of("feishu")) == (20, 20, 100)
    assert rate_of("webhook") is None and rate_of("email") is None


def test_twenty_one_due_to_a_fresh_robot_twenty_go_and_one_waits():
    assert admit(channel(), 21, [], 0, NOW) == (20, NOW + timedelta(seconds=2))


def test_what_went_in_the_last_minute_and_what_is_in_flight_count_against_the_limit():
    sent = [ago(50), ago(40)] + [ago(10)] * 15
    admitted, wait = admit(channel(), 10, sent, 2, NOW)
    assert admitted == 1 and wait == ago(50) + timedelta(seconds=60)


@given(sent=st.lists(st.floats(0.001, 59.999), max_size=40), flying=st.integers(0, 30), due=st.integers(0, 50))
def test_never_more_than_the_limit_in_a_minute_and_nothing_dropped(sent, flying, due):
    moments = sorted(ago(seconds) for seconds in sent)
    admitted, wait = admit(channel(), due, moments, flying, NOW)
    assert 0 <= admitted <= due and admitted + len(moments) + flying <= max(20, len(moments) + flying)
    assert (wait is None) == (admitted == due)  # whatever does not go now has a time to go
    assert wait is None or wait > NOW


def test_feishu_also_takes_only_five_a_second():
    assert admit(channel("feishu"), 8, [ago(0.5)] * 3, 0, NOW) == (2, ago(0.5) + timedelta(seconds=1))


def test_a_webhook_takes_everything_due():
    assert admit(channel("webhook"), 500, [ago(1)] * 500, 0, NOW) == (500, None)


def test_a_receivers_pause_holds_everything_until_it_ends():
    assert admit(channel(paused_until=NOW + timedelta(minutes=10)), 3, [], 0, NOW) == (0, NOW + timedelta(minutes=10))


def test_five_failures_in_a_row_open_the_circuit_and_a_success_closes_it():
    robot = channel()
    for _ in range(CIRCUIT_FAILURES - 1):
        trip(robot, Outcome(RETRY, "502"), NOW)
    assert circuit_state(robot, NOW) == "closed" and robot.failures == CIRCUIT_FAILURES - 1
    trip(robot, Outcome(RETRY, "502"), NOW)
    assert circuit_state(robot, NOW) == "open" and robot.open_until == NOW + CIRCUIT_OPEN
    assert admit(robot, 4, [], 0, NOW) == (0, NOW + CIRCUIT_OPEN)  # wait, using no attempt


def test_an_open_circuit_after_its_rest_lets_one_probe_through():
    robot = channel(circuit="open", failures=5, open_until=NOW - timedelta(seconds=1))
    assert circuit_state(robot, NOW) == "half_open"
    assert admit(robot, 4, [], 0, NOW) == (1, NOW + timedelta(seconds=2))
    assert admit(robot, 4, [], 1, NOW) == (0, NOW + timedelta(seconds=2))  # the probe is in flight


def test_a_failed_probe_opens_the_circuit_again_and_any_answer_closes_it():
    robot = channel(circuit="half_open", failures=5)
    trip(robot, Outcome(RETRY, "timeout"), NOW)
    assert robot.circuit == "open" and robot.open_until == NOW + CIRCUIT_OPEN
    for status in (SENT, REFUSED, RATE_LIMITED):
        robot = channel(circuit="half_open", failures=5)
        trip(robot, Outcome(status, "an answer"), NOW)
        assert (robot.circuit, robot.failures, robot.open_until, robot.last_answer) == ("closed", 0, None, "an answer")


def test_a_channels_url_is_answered_with_its_keys_masked():
    assert mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a****"
    assert mask_url("https://oapi.dingtalk.com/robot/send?access_token=abcdef123456") == \
        "https://oapi.dingtalk.com/robot/send?access_token=abcd****"
    assert mask_url("https://open.feishu.cn/open-apis/bot/v2/hook/0f9e8d7c-6b5a-4321-9876-543210fedcba") == \
        "https://open.feishu.cn/open-apis/bot/v2/hook/0f9e****"
    assert mask_url(None) is None
