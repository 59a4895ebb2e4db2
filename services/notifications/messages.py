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
    lines.append(HOW_ASSIGNED.get(assigned.get("reason"), ""))
    if assigned.get("first_contact_due_at"):
        lines.append("Call now: the first-contact clock is running.")
    return title, "\n".join(line for line in lines if line)


HOW_ASSIGNED = {
    "reroute": "Re-routed to you: it was not called in time.",
    "escalation": "Escalated to you: it was re-routed as often as the store allows and still not called.",
    "manual": "A manager gave it to you.",
}

CHANGES = {  # change -> title (the lead's customer in it); the reason and details follow in the body
    "pooled": "Lead in the claim pool: {who}",
    "sla_warning": "Call soon: {who}'s first-contact deadline is near",
    "sla_breached": "Deadline missed: {who} was not called in time",
    "loss_requested": "Loss to approve: {who}",
    "lost": "Lead lost: {who}",
    "loss_refused": "Loss refused: keep following {who}",
    "won": "Won: {who}",
    "reopened": "Lead reopened: {who}",
    "inquiry": "{who} asked again",
    "comment": "New comment on {who}'s lead",
    "graded": "Lead regraded: {who}",
    "stage_changed": "Lead moved on: {who}",
}


def change_message(changed: dict) -> tuple[str, str]:
    """Title and body of the inbox message telling someone of a lead's change."""
    who = changed.get("customer_name") or "a customer"
    details = changed.get("details") or {}
    title = fit(CHANGES.get(changed["change"], "Lead changed: {who}").format(who=who), TITLE_LENGTH)
    lines = [changed["reason"]] if changed.get("reason") else []
    for key in ("excerpt", "lost_reason", "comments", "due_at"):
        if details.get(key):
            lines.append(f"{key.replace('_', ' ').capitalize()}: {details[key]}")
    return title, "\n".join(lines)


TASKS = {  # event -> title
    "followup_reminder": "Due soon: {kind} {who}",
    "followup_overdue": "Missed: {kind} {who}",
}


def task_message(event_type: str, task: dict) -> tuple[str, str]:
    """Title and body of a task's reminder or its escalation."""
    who = task.get("customer_name") or "a customer"
    kind = task["kind"].replace("_", " ")
    title = fit(TASKS[event_type].format(kind=kind, who=who), TITLE_LENGTH)
    return title, f"Due at {task['due_at']}"