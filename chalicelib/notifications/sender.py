"""Sending an :class:`Email` through Amazon SES (sesv2), as a MIME message.

The message is built by the standard library (``multipart/alternative``: text, then
HTML), which encodes headers properly and refuses a header value with a line break.
It goes out as ``Content.Raw``, so both parts reach the recipient exactly as
written (locally, moto keeps the raw message and the outbox shows both parts).
"""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage
from typing import Any

from chalicelib.notifications.emails import Email

# SES errors a retry will not fix: the address or the account is refused.
PERMANENT_ERRORS = frozenset(
    {
        "MessageRejected",
        "BadRequestException",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "NotFoundException",
        "InvalidParameterValue",
    }
)


class SendFailed(Exception):
    """SES did not take the email. ``permanent`` says whether retrying could help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


EXPECTED_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "auto-submitted",
        "mime-version",
        "content-type",
    }
)


def mime_message(sender: str, message: Email) -> bytes:
    """The RFC 5322 bytes of ``message``; SendFailed (permanent) if the result holds any
    header it should not (defence in depth against header injection: an old standard
    library can turn a decoded encoded word into raw line breaks, CVE-2024-6923)."""
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(usegmt=True)
    mime["Message-ID"] = email.utils.make_msgid(domain=_domain(sender))
    # RFC 3834: an automatic message; auto-responders should not answer it.
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    raw = mime.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    names = {name.lower() for name in parsed.keys()}  # noqa: SIM118 - Message has no iterator of names
    if names != EXPECTED_HEADERS or len(parsed.get_all("to") or []) != 1:
        raise SendFailed("the email's headers were not the expected ones", permanent=True)
    return raw


def _domain(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


class SesEmailSender:
    """Sends through sesv2 ``SendEmail`` from a verified identity."""

    def __init__(self, sender: str, region: str, client: Any = None) -> None:
        self._sender = sender
        self._region = region
        self._client = client

    def send(self, message: Email) -> str:
        """SES's message id; SendFailed otherwise."""
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            import boto3  # lazy: only the stream consumer sends mail

            self._client = boto3.client("sesv2", region_name=self._region)
        try:
            response = self._client.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [message.to]},
                Content={"Raw": {"Data": mime_message(self._sender, message)}},
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise SendFailed(
                f"SES refused the email ({code})", permanent=code in PERMANENT_ERRORS
            ) from exc
        except BotoCoreError as exc:
            raise SendFailed(
                f"SES could not be reached ({type(exc).__name__})", permanent=False
            ) from exc
        return str(response.get("MessageId", ""))
