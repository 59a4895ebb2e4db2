"""What the tests of ``dealerflow.messaging``'s delivery handling share."""
import pytest

from dealerflow import messaging


@pytest.fixture
def sleeps(monkeypatch):
    """The seconds each green sleep of ``messaging`` would have slept."""
    slept = []
    monkeypatch.setattr(messaging.time, "sleep", slept.append)
    return slept


@pytest.fixture
def rescheduled(monkeypatch):
    """The messages sent to their retry queue (none is published)."""
    sent = []

    def retry_or_park(amqp_uri, queue_name, message, exc_info):
        sent.append(message)
        return f"{queue_name}.retry.1s"
    monkeypatch.setattr(messaging, "retry_or_park", retry_or_park)
    return sent
