"""dealerflow.runner: a service runs below the gateway, also where Linux's
autogroup scheduling would otherwise rank it only within its own session."""
import subprocess
import sys
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")
REPORT = ("import os; from dealerflow.runner import lower_priority; lower_priority(7); "
          "print(os.nice(0)); print(open('/proc/self/autogroup').read() if os.path.exists('/proc/self/autogroup') "
          "else 'no autogroup')")


def lowered(**popen) -> tuple[int, str]:
    out = subprocess.run([sys.executable, "-c", REPORT], capture_output=True, text=True, check=True,
                         timeout=60, **popen).stdout.splitlines()
    return int(out[0]), out[1]


def test_a_service_that_leads_its_own_session_lowers_its_group_too():
    niceness, autogroup = lowered(start_new_session=True)
    assert niceness == 7
    assert autogroup.endswith("nice 7") or (autogroup == "no autogroup" and not AUTOGROUP.exists())


def test_a_service_in_a_shared_session_leaves_the_group_to_the_others():
    before = AUTOGROUP.read_text().strip() if AUTOGROUP.exists() else "no autogroup"
    niceness, autogroup = lowered()
    assert niceness == 7 and autogroup == before  # the gateway's group, under supervisord: untouched
