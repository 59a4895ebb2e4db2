"""What a notification says."""


def new_lead_message(assigned: dict) -> tuple[str, str]:
    """Title and body of the inbox message for a newly assigned lead."""
    who = assigned.get("customer_name") or assigned.get("phone") or "A customer"
    interest = assigned.get("interest") or {}
    car = " ".join(str(interest[k]) for k in ("brand", "model") if interest.get(k))
    title = f"New lead: {who}"
    lines = [f"Source: {assigned['source']}"]
    if assigned.get("phone"):
        lines.append(f"Phone: {assigned['phone']}")
    if car:
        lines.append(f"Interested in: {car}")
    lines.append("Call now: the first-contact clock is running.")
    return title, "\n".join(lines)
