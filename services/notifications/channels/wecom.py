"""WeCom (企业微信) group robots.

The robot's address carries its key (``.../cgi-bin/webhook/send?key=...``);
there is no signature. It answers HTTP 200 with ``errcode``: 0 sent, 45009
too many (20 a minute per robot), 93000 an address that is not a robot's,
-1 busy. A mention by mobile only works in a text message
(``mentioned_mobile_list``), so a message that @s someone is text and any
other is markdown (bold title, the link as a link). WeCom counts content in
bytes: 2048 for text, 4096 for markdown; the body is cut to fit, the title
and link are kept.
"""
from services.notifications.channels import Message, Outcome, Target
from services.notifications.channels.posting import RobotCodes, fit, mobile, open_label

TEXT_BYTES, MARKDOWN_BYTES = 2048, 4096
CODES = RobotCodes(("errcode",), rate_limited=frozenset({45009}), transient=frozenset({-1}))


def payload(message: Message) -> dict:
    """The robot's JSON for ``message``."""
    at = mobile(message.mention)
    if at:
        tail = f"\n{message.link}" if message.link else ""
        return {"msgtype": "text",
                "text": {"content": fit(f"{message.title}\n", message.body, tail, TEXT_BYTES),
                         "mentioned_mobile_list": [at]}}
    tail = f"\n[{open_label(message.language)}]({message.link})" if message.link else ""
    return {"msgtype": "markdown",
            "markdown": {"content": fit(f"**{message.title}**\n", message.body, tail, MARKDOWN_BYTES)}}


def send(target: Target, message: Message, timeout: float) -> Outcome:
    """Post ``message`` to the robot at ``target.url`` once."""
    return CODES.send(target.url, payload(message), timeout)
