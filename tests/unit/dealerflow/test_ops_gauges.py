"""The notifications service's scrape-time gauge of its channels' circuits,
read from a real database."""
from datetime import timedelta

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from dealerflow.db import utcnow
from services.notifications.engine import circuit_gauges
from services.notifications.models import Base, StoreChannel


def channel(store: str, kind: str, circuit: str, open_until=None, enabled=True) -> StoreChannel:
    now = utcnow()
    return StoreChannel(id=f"{store}-{kind}-{circuit}-{enabled}", store_code=store, type=kind, name=kind,
                        enabled=enabled, circuit=circuit, failures=0, open_until=open_until, settings={},
                        kinds=[], created_at=now, updated_at=now)


def test_a_store_s_channel_type_is_open_while_one_of_its_enabled_channels_has_an_open_circuit():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    now = utcnow()
    with Session(engine) as session:
        session.add_all([
            channel("SH-PUDONG", "wecom", "open", now + timedelta(seconds=30)),
            channel("SH-PUDONG", "wecom", "closed"),
            channel("SH-PUDONG", "dingtalk", "open", now - timedelta(seconds=1)),  # its rest is over: half open
            channel("BJ-CHAOYANG", "webhook", "open", now + timedelta(seconds=30), enabled=False),
            channel("BJ-CHAOYANG", "email", "closed"),
        ])
        session.commit()
        [family] = circuit_gauges(session, now)
    assert {tuple(sample.labels.values()): sample.value for sample in family.samples} == {
        ("wecom", "SH-PUDONG"): 1, ("dingtalk", "SH-PUDONG"): 0, ("email", "BJ-CHAOYANG"): 0}
