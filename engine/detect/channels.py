"""External notification channels: webhook (JSON POST) and e-mail (SMTP).

A channel delivers one composed ``Message`` (a group of alert notifications) or raises
``DeliveryError``. Channels do not retry: the outbox (``engine.detect.outbox``) schedules
retries on the engine clock. Error texts are redacted of the channel's secrets (a webhook
URL often is one, as are tokens and SMTP passwords), because they are stored with the
delivery and shown to admins.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit, urlunsplit
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from engine.config_model import EmailSpec, WebhookSpec

_ERROR_LIMIT = 300
log = logging.getLogger("wedscale.alerts")


class DeliveryError(Exception):
    """A delivery attempt failed; the message is safe to store (no secrets)."""


@dataclass(frozen=True)
class Message:
    """What a channel sends: a subject, a plain-text body and the structured items."""

    subject: str
    text: str
    items: tuple[dict, ...]

    def payload(self) -> dict:
        """Return the JSON body a webhook receives."""
        return {"source": "wedscale", "subject": self.subject, "text": self.text,
                "alerts": list(self.items)}


def compose(items: list[dict]) -> Message:
    """Return one message for a group of notification items (dicts from ``Notification.as_item``)."""
    escalated = any(i.get("escalation") for i in items)
    worst = "critical" if any(i["severity"] == "critical" for i in items) else "warning"
    firing = [i for i in items if i["state"] != "resolved"]
    head = f"[wedscale] {'ESCALATED ' if escalated else ''}{worst}: "
    if len(items) == 1:
        one = items[0]
        subject = head + f"{one['service']}/{one['metric']} {one['state']}"
    else:
        subject = head + f"{len(firing)} firing, {len(items) - len(firing)} resolved"
    lines = [f"- {'[escalated] ' if i.get('escalation') else ''}{i['state']} {i['severity']} "
             f"{i['service']}/{i['metric']} (alert {i['alert_id']}): {i['summary']}" for i in items]
    return Message(subject, "\n".join(lines), tuple(items))


class Channel(Protocol):
    """A notification channel the outbox delivers to."""

    name: str
    level: str

    def deliver(self, message: Message) -> None:
        """Send ``message`` once; raise ``DeliveryError`` (secret-free text) on any failure."""
        ...


def _split_credentials(url: str) -> tuple[str, str | None]:
    """Return ``url`` without ``user:password@`` and the HTTP Basic credentials it carried.

    Many chat and paging services hand out webhook URLs with credentials in them; urllib
    would take ``user:password@host`` for a host name, so they travel as a Basic header.
    """
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return (urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
            base64.b64encode(pair.encode()).decode("ascii"))


def _redacted(text: str, secrets: list[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:_ERROR_LIMIT]


class WebhookChannel:
    """POSTs the message as JSON; any 2xx answer is a success.

    Parameters
    ----------
    spec : WebhookSpec
        Name, level, URL and optional bearer token.
    timeout_s : float
        Connect and read timeout of one attempt, seconds.
    """

    def __init__(self, spec: WebhookSpec, timeout_s: float = 5.0):
        self.name, self.level = spec.name, spec.level
        self._spec, self.timeout_s = spec, timeout_s

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r}, level={self.level!r})"

    def deliver(self, message: Message) -> None:
        """POST ``message.payload()``; raise ``DeliveryError`` for a non-2xx answer or no answer."""
        headers = {"Content-Type": "application/json", "User-Agent": "wedscale-alerts"}
        url, basic = _split_credentials(self._spec.url)
        if self._spec.token:
            headers["Authorization"] = f"Bearer {self._spec.token}"
        elif basic:
            headers["Authorization"] = f"Basic {basic}"
        request = urllib.request.Request(url, data=json.dumps(message.payload()).encode(),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise DeliveryError(f"HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(self._safe(f"{type(exc).__name__}: {reason}")) from None

    def _safe(self, text: str) -> str:
        parts = urlsplit(self._spec.url)
        return _redacted(text, [self._spec.url, _split_credentials(self._spec.url)[0], self._spec.token,
                                parts.password and unquote(parts.password), parts.password])


class EmailChannel:
    """Sends the message as a plain-text e-mail through an SMTP server (``smtplib``).

    Parameters
    ----------
    spec : EmailSpec
        Server, sender, recipients, STARTTLS and optional login.
    timeout_s : float
        Socket timeout of the SMTP conversation, seconds.
    """

    def __init__(self, spec: EmailSpec, timeout_s: float = 5.0):
        self.name, self.level = spec.name, spec.level
        self._spec, self.timeout_s = spec, timeout_s

    def __repr__(self) -> str:
        return f"EmailChannel({self.name!r}, {self._spec.host}:{self._spec.port}, level={self.level!r})"

    def deliver(self, message: Message) -> None:
        """Send one e-mail to every recipient; raise ``DeliveryError`` on any SMTP or socket error."""
        spec = self._spec
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = spec.sender, ", ".join(spec.recipients), message.subject
        mail.set_content(message.text + "\n")
        try:
            with smtplib.SMTP(spec.host, spec.port, timeout=self.timeout_s) as smtp:
                if spec.starttls:
                    smtp.starttls()
                if spec.username:
                    smtp.login(spec.username, spec.password or "")
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(_redacted(f"{type(exc).__name__}: {exc}", [spec.password])) from None
        if refused:  # the others have it: a retry would send them a duplicate
            log.warning("channel %s: recipients refused: %s", self.name, ", ".join(sorted(refused)))


def build_channels(notifications) -> list:
    """Return the configured channels of a ``NotificationConfig``."""
    timeout = notifications.timeout_s
    return ([WebhookChannel(spec, timeout) for spec in notifications.webhooks]
            + [EmailChannel(spec, timeout) for spec in notifications.emails])
