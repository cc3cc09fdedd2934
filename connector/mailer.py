"""SMTP delivery of outbox messages: build the email, hand it to the configured server.

A failure comes back as DeliveryFailed. It is `permanent` only when the server refused this
message for good: a 5xx reply to RCPT TO or to DATA (RFC 5321 §4.2.1, "permanent negative
completion reply"). Everything else is transient and retried later: the server down or slow,
4xx replies, and problems of our own configuration (TLS, login, a refused sender), which an
admin can fix without losing the messages.
"""
from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from connector.config import MailSettings
from connector.errors import AllyError

log = logging.getLogger(__name__)
REASON_LIMIT = 500


class MailNotConfigured(AllyError):
    def __init__(self):
        super().__init__("mail.smtp_host is not set, so no email can be sent: invitations wait in the "
                         "outbox until a mail server is configured (mail.smtp_host or ALLY_MAIL__SMTP_HOST)")


class DeliveryFailed(Exception):
    """The message was not delivered; `reason` is safe to store and show (no credentials)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason[:REASON_LIMIT]
        self.permanent = permanent


def build_email(message, sender: str) -> EmailMessage:
    """The email for an OutboxMessage: From, To, Subject, Date, a stable Message-ID, text body."""
    email = EmailMessage()
    try:
        email["From"] = sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = message_id(message, sender)
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no auto-replies to this
        email.set_content(message.body)
    except (ValueError, TypeError) as exc:
        raise DeliveryFailed(f"cannot build the email: {exc}", permanent=True) from None
    return email


def message_id(message, sender: str) -> str:
    """The same for every attempt at one outbox message, so that a resend after a crash carries
    the Message-ID of the first send and receiving systems can drop the copy (RFC 5322 §3.6.4)."""
    stamp = message.created_at.strftime("%Y%m%dT%H%M%S%f")
    return f"<outbox.{message.id}.{stamp}@{_sender_domain(sender)}>"


def _sender_domain(sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


class SmtpMailer:
    """One SMTP session reused for consecutive messages; opened on the first send, dropped and
    reopened after a failure that may have broken it."""

    def __init__(self, settings: MailSettings):
        if not settings.smtp_host:
            raise MailNotConfigured()
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def send(self, email: EmailMessage) -> None:
        """Deliver one email to the server, or raise DeliveryFailed."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            failure = self._describe(exc)
            if not _session_survives(exc):
                self._drop()
            raise failure from None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        self._drop()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds,
                                    context=self._tls_context())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.settings.ca_file)
        except OSError as exc:
            raise ssl.SSLError(f"cannot read mail.ca_file {self.settings.ca_file}: {exc.strerror}") from None

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    def _describe(self, exc: Exception) -> DeliveryFailed:
        failure = _classify(exc, f"{self.settings.smtp_host}:{self.settings.smtp_port}")
        failure.reason = _scrub(failure.reason, self.settings)
        return failure


def _classify(exc: Exception, where: str) -> DeliveryFailed:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        recipient, (code, text) = next(iter(exc.recipients.items()))
        return DeliveryFailed(f"recipient {recipient} refused: {code} {_text(text)}", permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPDataError):
        return DeliveryFailed(f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                              permanent=exc.smtp_code >= 500)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return DeliveryFailed(f"sender {exc.sender} refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryFailed(f"login refused by {where}: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryFailed(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryFailed(f"{where} closed the connection")
    if isinstance(exc, smtplib.SMTPException):
        return DeliveryFailed(f"{where}: {exc}")
    return DeliveryFailed(_network_reason(exc, where))


def _network_reason(exc: OSError, where: str) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where} (is the mail server running?)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"timed out talking to {where}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {where}: {exc.strerror}"
    return f"cannot reach {where}: {exc.strerror or exc}"


def _session_survives(exc: Exception) -> bool:
    """smtplib resets the transaction (RSET) after a refused sender, recipient or DATA; the
    session stays usable unless the server said 421 (closing, RFC 5321 §3.8)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code != 421 for code, _ in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused)):
        return exc.smtp_code != 421
    return False


def _text(raw) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _scrub(text: str, settings: MailSettings) -> str:
    """Server replies may echo what we sent; no stored reason ever holds the password."""
    if not settings.password:
        return text
    secrets = {settings.password}
    for form in (f"\0{settings.username}\0{settings.password}", settings.password):
        secrets.add(base64.b64encode(form.encode()).decode())
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
