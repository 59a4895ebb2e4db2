"""The demo dealer group of DESIGN.md: two stores with a team each (a
manager leading three consultants), a group admin. The consultants are on
shift at all hours with ample daily capacity, so that a demo lead is always
assigned at once. Seeding twice changes nothing; seeding a group made
before teams existed gives its users their team and shifts. Each demo
store's test-drive vehicles (a BYD Han EV, a Seal and a Song Plus DM-i,
stock numbers ``<store>-HAN-01`` ...) are the followups service's data:
``dealerflow seed-demo`` seeds them there with
``services.followups.test_drives.seed_demo_vehicles``."""
from sqlalchemy import select

from services.gateway.models import Store, Team, User
from services.gateway.org import ALL_HOURS, create_store, create_team, create_user, update_team, update_user

BY = "seed-demo"
DEMO_STORES = (("SH-PUDONG", "Shanghai Pudong", "Asia/Shanghai"),
               ("BJ-CHAOYANG", "Beijing Chaoyang", "Asia/Shanghai"))
DEMO_TEAMS = (("Pudong A", "SH-PUDONG", "manager.sh"),
              ("Chaoyang A", "BJ-CHAOYANG", "manager.bj"))
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
CONSULTANT_ROUTING = {"shift": ALL_HOURS, "languages": ["zh", "en"]}
DEMO_CAPACITY = 100  # new leads a demo consultant takes a day; routing pools the rest


def demo_fields(role: str, team: Team | None, capacity: int = DEMO_CAPACITY) -> dict:
    """A demo user's team and, for a consultant, routing fields."""
    if team is None:
        return {}
    return {"team_id": team.id, **(dict(CONSULTANT_ROUTING, daily_capacity=capacity) if role == "consultant"
                                   else {})}


def seed_demo(session, password: str, capacity: int = DEMO_CAPACITY) -> list[str]:
    """Create what of the demo group is missing; returns what was created.
    ``capacity``: each new demo consultant's daily capacity (a load test
    sends thousands of leads a day)."""
    created = []
    for code, name, timezone in DEMO_STORES:
        if session.get(Store, code) is None:
            create_store(session, code, name, timezone, by=BY)
            created.append(f"store {code}")
    teams = {}
    for name, store_code, _ in DEMO_TEAMS:
        teams[store_code] = session.scalar(select(Team).where(Team.name == name,
                                                              Team.store_code == store_code))
        if teams[store_code] is None:
            teams[store_code] = create_team(session, name, store_code, by=BY)
            created.append(f"team {name}")
    session.flush()
    for username, display_name, role, stores in DEMO_USERS:
        fields = demo_fields(role, teams.get(stores[0]) if stores else None, capacity)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            create_user(session, username, password, role, stores, display_name, by=BY, **fields)
            created.append(f"user {username}")
        elif fields and user.team_id is None:
            update_user(session, user.id, fields, BY)
            created.append(f"team and shift of {username}")
    session.flush()
    for name, store_code, leader in DEMO_TEAMS:
        if teams[store_code].leader_id is None:
            leader_id = session.scalar(select(User.id).where(User.username == leader))
            update_team(session, teams[store_code].id, {"leader_id": leader_id}, BY)
    return created
