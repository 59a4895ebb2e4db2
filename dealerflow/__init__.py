"""The small package every Dealerflow service shares: message contracts, the
database dependency, configuration, logging and the delivery mechanics
(outbox, retries, parking). It holds no business logic."""
import warnings

from dealerflow.serialization import plain_json

# eventlet prints a deprecation notice on import (nameko 2.14.1 needs it);
# silence exactly that one so it cannot hide real warnings.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

plain_json()  # before any message is read or written, in every process
