"""Who gets a lead. For now: round robin over the store's active consultants
(grading, rules and SLA re-routing come later)."""


def next_in_rotation(candidates: list[str], last: str | None) -> str | None:
    """The candidate after ``last`` in sorted order, wrapping around;
    the first one when ``last`` is unknown or gone."""
    ordered = sorted(candidates)
    if not ordered:
        return None
    later = [c for c in ordered if last is not None and c > last]
    return later[0] if later else ordered[0]
