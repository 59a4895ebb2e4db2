"""What every service can store, checked once at the door.

A lead's free-form parts (address, phones, trade-ins, anything a platform
adds) travel the bus and land in JSON and text columns on SQLite and on
PostgreSQL. Some values parse as JSON but cannot be stored everywhere:
PostgreSQL refuses NUL in text, no UTF-8 codec takes a lone surrogate
(``"\\ud800"`` is valid JSON), and integers past 2**53 lose digits in every
JavaScript client. Such a lead must be refused with 422 naming the field,
never accepted and then dropped. Nesting is bounded too: deep documents
cost recursion everywhere downstream, so they are refused with 400.
"""
import math

MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1


class TooDeep(ValueError):
    """The document nests objects and arrays deeper than ``MAX_DEPTH``."""


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored, or None."""
    if "\x00" in value:
        return "Contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Contains a lone surrogate, which is not text."
    return None


def value_problem(value) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        return f"Integers must lie within ±{MAX_SAFE_INTEGER}."
    if isinstance(value, float) and not math.isfinite(value):
        return "Numbers must be finite."
    return None


def unstorable(document) -> dict:
    """The errors of a decoded JSON document, shaped like marshmallow's
    (``{"customer": {"address": {"street": ["..."]}}}``); empty when every
    value can be stored. Raises ``TooDeep``. Walks without recursion."""
    errors: dict = {}
    stack = [((), document)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            raise TooDeep(f"The document nests deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    _add(errors, path + (key.encode("utf-8", "replace").decode(),), f"Key: {problem}")
                else:
                    stack.append((path + (key,), item))
        elif isinstance(value, list):
            stack.extend((path + (index,), item) for index, item in enumerate(value))
        else:
            problem = value_problem(value)
            if problem:
                _add(errors, path, problem)
    return errors


def _add(errors: dict, path: tuple, message: str) -> None:
    node = errors
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node.setdefault(path[-1] if path else "_schema", []).append(message)
