"""The defaults a user has before they choose (services.notifications.preferences)
and the language they read (handlers.default_language)."""
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.notification_contracts import KINDS, USER_CHANNELS
from services.notifications.handlers import default_language
from services.notifications.models import Preference, UserCopy
from services.notifications.preferences import channels_of, language_for


def test_without_a_choice_every_kind_goes_to_the_inbox_push_and_robots_and_escalations_also_email():
    channels = channels_of(None)
    assert set(channels) == set(KINDS)
    for kind, chosen in channels.items():
        expected = {"inapp", "webpush", "robot"} | ({"email"} if kind in ("escalation", "daily_digest") else set())
        assert set(chosen) == expected, kind


@given(saved=st.dictionaries(st.sampled_from(KINDS), st.lists(st.sampled_from(USER_CHANNELS), unique=True)))
def test_a_saved_choice_replaces_its_kinds_default_and_the_inbox_always_stays(saved):
    channels = channels_of(saved)
    for kind in KINDS:
        assert "inapp" in channels[kind]
        assert set(channels[kind]) == ({"inapp", *saved[kind]} if kind in saved else set(channels_of(None)[kind]))


def test_the_language_is_the_choice_else_the_users_default_else_chinese():
    user = UserCopy(user_id="u", language="en")
    assert language_for(Preference(user_id="u", language="zh"), user) == "zh"
    assert language_for(Preference(user_id="u", language=None), user) == "en"
    assert language_for(None, user) == "en" and language_for(None, None) == "zh"


def test_a_user_reads_chinese_unless_they_speak_only_other_languages_we_have():
    assert default_language([]) == "zh" and default_language(["zh", "en"]) == "zh"
    assert default_language(["en"]) == "en" and default_language(["yue", "en"]) == "en"
    assert default_language(["yue"]) == "zh"
