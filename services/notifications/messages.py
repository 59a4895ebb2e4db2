"""What a notification says."""
from services.notifications.models import TITLE_LENGTH


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut: a
    title built from a platform's fields must fit its column."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def new_lead_message(assigned: dict) -> tuple[str, str]:
    """Title and body of the inbox message for a newly assigned lead."""
    who = assigned.get("customer_name") or assigned.get("phone") or "A customer"
    interest = assigned.get("interest") or {}
    car = " ".join(str(interest[k]) for k in ("brand", "model") if interest.get(k))
    title = fit(f"New lead: {who}", TITLE_LENGTH)
    lines = [f"Source: {assigned['source']}"]
    if assigned.get("phone"):
        lines.append(f"Phone: {assigned['phone']}")
    if car:
        lines.append(f"Interested in: {car}")
    lines.append("Call now: the first-contact clock is running.")
    return title, "\n".join(lines)
