"""Web Push to a user's installed app (pywebpush: VAPID and aes128gcm).

``target.to`` is the browser's subscription (``PushSubscription.toJSON()``
as JSON), ``target.secret`` the VAPID private key (PEM, or the raw base64url
key pywebpush accepts), ``target.settings["subject"]`` the contact a push
service may write to (``mailto:ops@example.com``). The payload is
``{title, body, link, kind}``, encrypted for that browser alone.

The push service answers 201. 404 and 410 mean the subscription is gone (the
app was uninstalled, the permission withdrawn): refused, and the engine
forgets the subscription. 429 is "slow down", 5xx "try again", other 4xx
(a payload too large, a VAPID key it does not accept) refused.
"""
import json

import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from dealerflow.notification_contracts import URGENT_KINDS
from services.notifications.channels import REFUSED, SENT, Message, Outcome, Target
from services.notifications.channels.posting import SESSION, answer_of, by_status, failed, trim

TTL = 12 * 3600  # a phone off for the night still gets the morning's messages
GONE = (404, 410)


def vapid(private_key: str) -> Vapid02:
    """The VAPID signer for a PEM key or a raw one (pywebpush reads only the raw form from a string)."""
    if private_key.lstrip().startswith("-----BEGIN"):
        return Vapid02.from_pem(private_key.strip().encode())
    return Vapid02.from_string(private_key)


def payload(message: Message) -> str:
    """What the app's service worker receives and shows."""
    return json.dumps({"title": message.title, "body": message.body, "link": message.link,
                       "kind": message.kind}, ensure_ascii=False)


def refused_by_push_service(response: requests.Response) -> Outcome:
    """What a push service's non-2xx answer means."""
    if response.status_code in GONE:
        return Outcome(REFUSED, trim(f"subscription gone: {answer_of(response)}"))
    return by_status(response) or Outcome(REFUSED, answer_of(response))


def send(target: Target, message: Message, timeout: float) -> Outcome:
    """Push ``message`` to one browser subscription, once."""
    if not (target.to and target.secret):
        return Outcome(REFUSED, "no subscription or no VAPID key")
    try:
        response = webpush(json.loads(target.to), payload(message), vapid_private_key=vapid(target.secret),
                           vapid_claims={"sub": target.settings.get("subject", "mailto:admin@localhost")},
                           timeout=timeout, ttl=TTL, requests_session=SESSION,
                           headers={"Urgency": "high" if message.kind in URGENT_KINDS else "normal"})
    except WebPushException as error:
        if error.response is None:
            return Outcome(REFUSED, trim(f"unusable subscription: {error.message}"))
        return refused_by_push_service(error.response)
    except requests.RequestException as error:
        return failed(error)
    except ValueError as error:
        return Outcome(REFUSED, trim(f"unusable subscription or VAPID key: {type(error).__name__}: {error}"))
    return Outcome(SENT, answer_of(response))
