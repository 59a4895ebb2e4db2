"""Email over a store's own SMTP server (stdlib ``smtplib``: green under
eventlet, no dependency).

``target.settings``: host, port, username, sender, starttls (true/false),
ssl (true/false: SMTPS, usually port 465); ``target.secret`` is the password;
``target.to`` the address. TLS verifies the server's certificate: a server
with a self-made certificate is a configuration to fix, not to skip.

SMTP says itself what is permanent: a 4xx reply (and no answer at all) is
worth another try, a 5xx (a refused login, an unknown mailbox, a message
rejected) is not. The answer is the server's last reply, e.g.
``250 2.0.0 Ok: queued as 4BcD``, which is what "send a test message" shows.
"""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape

from services.notifications.channels import REFUSED, RETRY, SENT, Message, Outcome, Target
from services.notifications.channels.posting import open_label, trim, unreachable


class RemembersReply:
    """An SMTP connection that keeps the server's reply to DATA, which
    ``send_message`` drops: it is the answer an admin wants to see."""
    reply: tuple[int, bytes] = (0, b"")

    def data(self, msg):
        self.reply = super().data(msg)
        return self.reply


class SMTP(RemembersReply, smtplib.SMTP):
    pass


class SMTPS(RemembersReply, smtplib.SMTP_SSL):
    pass


def compose(sender: str, to: str, message: Message) -> EmailMessage:
    """Plain text with a simple HTML alternative (and the invitation, when
    the message has one); the Message-ID comes from the dedupe key, so a
    mail client also shows a redelivery once."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(usegmt=True)
    # a dedupe key has colons, which a Message-ID's left part may not: dots instead
    mail["Message-ID"] = (f"<{message.event_id.replace(':', '.')}@dealerflow>" if message.event_id
                          else make_msgid("dealerflow"))
    label = open_label(message.language)
    text = message.body
    html = f"<h2>{escape(message.title)}</h2><p>{escape(message.body)}</p>".replace("\n", "<br>")
    if message.link:
        text += f"\n\n{label}: {message.link}"
        html += f'<p><a href="{escape(message.link)}">{escape(label)}</a></p>'
    mail.set_content(text)
    mail.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")
    if message.calendar:  # mail clients offer "accept" for a text/calendar with its method
        mail.add_attachment(message.calendar.encode(), maintype="text", subtype="calendar",
                            filename="invitation.ics", params={"method": "REQUEST", "charset": "utf-8"})
    return mail


def by_reply(code: int, text: bytes | str) -> Outcome:
    """2xx sent, 4xx try again, 5xx refused; the reply is the answer."""
    words = text.decode(errors="replace") if isinstance(text, bytes) else text
    answer = trim(f"{code} {words}")
    if 200 <= code < 300:
        return Outcome(SENT, answer)
    return Outcome(RETRY if 400 <= code < 500 else REFUSED, answer)


def connect(settings: dict, timeout: float) -> smtplib.SMTP:
    """An open connection to the store's server, TLS as its settings say."""
    host, use_ssl = settings["host"], bool(settings.get("ssl"))
    port = int(settings.get("port") or (465 if use_ssl else 587 if settings.get("starttls") else 25))
    if use_ssl:
        return SMTPS(host, port, timeout=timeout, context=ssl.create_default_context())
    return SMTP(host, port, timeout=timeout)


def send(target: Target, message: Message, timeout: float) -> Outcome:
    """Hand ``message`` to the store's SMTP server for ``target.to``, once."""
    settings = target.settings
    if not (settings.get("host") and target.to):
        return Outcome(REFUSED, "no SMTP host or no recipient configured")
    mail = compose(settings.get("sender") or settings.get("username"), target.to, message)
    try:
        with connect(settings, timeout) as smtp:
            if settings.get("starttls") and not settings.get("ssl"):
                smtp.starttls(context=ssl.create_default_context())
            if settings.get("username"):
                smtp.login(settings["username"], target.secret or "")
            smtp.send_message(mail)
            return by_reply(*smtp.reply)
    except smtplib.SMTPRecipientsRefused as error:
        return by_reply(*next(iter(error.recipients.values())))
    except smtplib.SMTPResponseException as error:
        return by_reply(error.smtp_code, error.smtp_error)
    except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as error:
        return Outcome(REFUSED, trim(f"{type(error).__name__}: {error}"))
    except (smtplib.SMTPException, OSError) as error:
        return unreachable(error)
