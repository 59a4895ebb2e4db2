"""The demo dealer group of DESIGN.md: two stores, a manager and three
consultants each, a group admin. Seeding twice changes nothing."""
from sqlalchemy import select

from services.gateway.models import Store, User
from services.gateway.org import create_store, create_user

DEMO_STORES = (("SH-PUDONG", "Shanghai Pudong", "Asia/Shanghai"),
               ("BJ-CHAOYANG", "Beijing Chaoyang", "Asia/Shanghai"))
DEMO_USERS = (
    ("admin", "Group Admin", "group_admin", []),
    ("manager.sh", "Pudong Sales Manager", "manager", ["SH-PUDONG"]),
    ("consultant.sh1", "Pudong Consultant 1", "consultant", ["SH-PUDONG"]),
    ("consultant.sh2", "Pudong Consultant 2", "consultant", ["SH-PUDONG"]),
    ("consultant.sh3", "Pudong Consultant 3", "consultant", ["SH-PUDONG"]),
    ("manager.bj", "Chaoyang Sales Manager", "manager", ["BJ-CHAOYANG"]),
    ("consultant.bj1", "Chaoyang Consultant 1", "consultant", ["BJ-CHAOYANG"]),
    ("consultant.bj2", "Chaoyang Consultant 2", "consultant", ["BJ-CHAOYANG"]),
    ("consultant.bj3", "Chaoyang Consultant 3", "consultant", ["BJ-CHAOYANG"]),
)


def seed_demo(session, password: str) -> list[str]:
    """Create what of the demo group is missing; returns what was created."""
    created = []
    for code, name, timezone in DEMO_STORES:
        if session.get(Store, code) is None:
            create_store(session, code, name, timezone)
            created.append(f"store {code}")
    session.flush()
    for username, display_name, role, stores in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, password, role, stores, display_name)
            created.append(f"user {username}")
    return created
