"""A store's script library in the followups service, on SQLite and
PostgreSQL: the store's wording replaces the group's in what its
consultants see and in the hints, a hidden script is gone from both, a
store-only script is added, reverting brings the group's back; only its
managers change it, and a bad template names its field; each script's use
and how often the lead moved on after it."""
from datetime import timedelta

import pytest

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from services.followups import guidance, records, script_library, scripts
from services.followups.exceptions import InvalidFollowup, NotAllowed, TaskNotFound
from tests.integration.test_followup_tasks import OWNER, STORE, assign, change, followups  # noqa: F401

pytestmark = pytest.mark.integration

MANAGER = Actor(kind="user", stores=(STORE,), user_id="m-1", role="manager")
FIRST_CALL = next(t for t in scripts.library() if t["situation"] == "first_contact")


def shown(session, lead_id="l-1") -> dict[str, dict]:
    return {script["id"]: script for script in guidance.scripts_for(session, OWNER, lead_id, "zh", {})}


def test_a_stores_own_wording_hidden_and_added_scripts_are_what_its_consultants_see(followups):  # noqa: F811
    with followups() as session:
        assign(session, "l-1", utcnow() + timedelta(minutes=30))
        assert FIRST_CALL["id"] in shown(session)
        own = {"situation": "first_contact", "stages": ["initial_contact"],
               "texts": {"zh": "{customer_name}您好，浦东店试驾日本周六开放。"}}
        script_library.save(session, MANAGER, STORE, FIRST_CALL["id"], own)
        assert shown(session)[FIRST_CALL["id"]]["text"] == "王磊您好，浦东店试驾日本周六开放。"

        script_library.save(session, MANAGER, STORE, "pudong_open_day", dict(own, texts={"zh": "开放日见！"}))
        library = {entry["id"]: entry for entry in script_library.view(session, MANAGER, STORE)}
        assert library["pudong_open_day"]["origin"] == "store"
        assert library[FIRST_CALL["id"]]["origin"] == "group" and library[FIRST_CALL["id"]]["changed_by_store"]

        script_library.save(session, MANAGER, STORE, FIRST_CALL["id"], {"hidden": True})
        assert FIRST_CALL["id"] not in shown(session) and "pudong_open_day" in shown(session)
        hint = guidance.hint_for(session, OWNER, "l-1", "zh", [])
        assert hint["script_id"] != FIRST_CALL["id"] and FIRST_CALL["id"] not in hint["alternatives"]

        script_library.revert(session, MANAGER, STORE, FIRST_CALL["id"])
        assert shown(session)[FIRST_CALL["id"]]["text"] != "王磊您好，浦东店试驾日本周六开放。"
        with pytest.raises(TaskNotFound):
            script_library.revert(session, MANAGER, STORE, FIRST_CALL["id"])


def test_only_managers_change_it_and_a_bad_template_names_its_field(followups):  # noqa: F811
    with followups() as session:
        with pytest.raises(NotAllowed):
            script_library.save(session, OWNER, STORE, FIRST_CALL["id"], {"hidden": True})
        with pytest.raises(InvalidFollowup) as refused:
            script_library.save(session, MANAGER, STORE, "x", {"situation": "first_contact",
                                                               "stages": ["initial_contact"],
                                                               "texts": {"zh": "您好 {unknown_value}"}})
        assert "texts.zh" in refused.value.errors
        with pytest.raises(InvalidFollowup) as refused:
            script_library.save(session, MANAGER, STORE, "only_ours", {"hidden": True})  # hide what is not there
        assert "texts" in refused.value.errors
        with pytest.raises(TaskNotFound):
            script_library.view(session, MANAGER, "BJ-CHAOYANG")


def test_each_script_counts_its_use_and_the_leads_that_moved_on_after_it(followups):  # noqa: F811
    with followups() as session:
        for lead_id in ("l-1", "l-2"):
            assign(session, lead_id, utcnow() + timedelta(minutes=30))
            records.add(session, OWNER, {"lead_id": lead_id, "channel": "call", "direction": "outbound",
                                         "outcome": "reached", "script_id": FIRST_CALL["id"]})
        change(session, "l-1", "stage_changed", stage="needs_confirmed")  # l-1 moved on, l-2 did not
        entry = next(e for e in script_library.view(session, OWNER, STORE) if e["id"] == FIRST_CALL["id"])
        assert (entry["used"], entry["moved_forward"], entry["forward_rate"]) == (2, 1, 0.5)
        unused = next(e for e in script_library.view(session, OWNER, STORE) if e["id"] != FIRST_CALL["id"])
        assert (unused["used"], unused["forward_rate"]) == (0, None)
