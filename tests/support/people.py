"""Made-up people for tests: each call a customer nobody has yet."""
import uuid


def unique_mobile() -> str:
    """A real-looking Chinese mobile number no other test uses."""
    return "139" + str(uuid.uuid4().int)[:8]
