"""Outgoing mail: one-line headers, a UTF-8 plain-text body (optionally an escaped HTML twin), sent over SMTP.

Nothing here retries: a send either hands the message to the server for every recipient or raises MailError and
hands it over for none, so the caller (the escalation pass) can try again on its next run without sending twice.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import suppress
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, getaddresses, make_msgid
from typing import TypeVar

from .config import Settings, is_mail_address

# Longest subject kept on one line of a mail client's list; longer ones are refused, not cut.
SUBJECT_MAX = 200
# Recipients of one message: a notice to a team, never a mailing list.
RECIPIENTS_MAX = 50
_URL = re.compile(r"https?://[^\s<>\"']+")
# Failed sends in a row after which a run of mails stops: the server is down, and each further try would wait out
# SERIALTRACE_SMTP_TIMEOUT; the rest waits for the next escalation pass.
GIVE_UP = 3
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class MailError(Exception):
    """The mail server could not be reached, or refused the sender, a recipient or the message: nothing was sent."""


def mail_configured(settings: Settings) -> bool:
    """Whether mail is on: SERIALTRACE_SMTP_HOST names a server (config ensures a sender comes with it)."""
    return bool(settings.smtp_host)


def until_down(items: Iterable[_Item], send_one: Callable[[_Item], _Result | None],
               failed: Callable[[_Result], bool]) -> list[_Result]:
    """`send_one` on each item in turn, stopping after GIVE_UP `failed` results in a row; the results of the items
    sent or tried (None from `send_one`: nothing was tried, such as an item another pass holds)."""
    results: list[_Result] = []
    failures = 0
    for item in items:
        if failures >= GIVE_UP:
            break
        result = send_one(item)
        if result is None:
            continue
        results.append(result)
        failures = failures + 1 if failed(result) else 0
    return results


def build_message(settings: Settings, *, to: str | Iterable[str], subject: str, text: str,
                  with_html: bool = False) -> EmailMessage:
    """A message from SERIALTRACE_MAIL_FROM to `to`; a bad sender, recipient or subject is a ValueError naming it.

    With `with_html` the text also goes out as HTML (escaped, its web addresses made links), for clients that
    show only that; the HTML is made from the text, so no caller can put markup of its own in a mail.
    """
    sender = settings.mail_from
    if not is_mail_address(sender):
        raise ValueError(f"sender: {sender!r} is not an email address (set SERIALTRACE_MAIL_FROM)")
    recipients = _recipients(to)
    _ensure_subject(subject)
    if "\x00" in text:
        raise ValueError("text: the body holds a NUL character")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # The sender's domain, not socket.getfqdn(), which can wait on DNS for seconds.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(text, charset="utf-8")
    if with_html:
        message.add_alternative(html_of(text), subtype="html", charset="utf-8")
    return message


def _recipients(to: str | Iterable[str]) -> list[str]:
    """The addresses of `to` in order, each once; refuses an empty list, a malformed address or too many."""
    given = [to] if isinstance(to, str) else list(to)
    recipients: list[str] = []
    for address in given:
        if not isinstance(address, str) or not is_mail_address(address):
            raise ValueError(f"to: {address!r} is not an email address (local@domain, one per entry)")
        if address.lower() not in {known.lower() for known in recipients}:
            recipients.append(address)
    if not recipients:
        raise ValueError("to: at least one recipient is needed")
    if len(recipients) > RECIPIENTS_MAX:
        raise ValueError(f"to: at most {RECIPIENTS_MAX} recipients, not {len(recipients)}")
    return recipients


def _ensure_subject(subject: str) -> None:
    """A subject is one printable line: a line break would let it write headers of its own."""
    if not subject.strip():
        raise ValueError("subject: it is empty")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in subject):
        raise ValueError(f"subject: {subject!r} holds a line break or control character")
    if len(subject) > SUBJECT_MAX:
        raise ValueError(f"subject: at most {SUBJECT_MAX} characters, not {len(subject)}")


def html_of(text: str) -> str:
    """`text` as escaped HTML: paragraphs at blank lines, line breaks kept, http(s) addresses as links."""
    paragraphs = [part for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    body = "\n".join(f"<p>{_linked(html.escape(part)).replace(chr(10), '<br>' + chr(10))}</p>" for part in paragraphs)
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


def _linked(escaped: str) -> str:
    """Web addresses in already escaped text as links; a trailing full stop or bracket stays outside the link."""
    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in ".,;:!?)":
            url, tail = url[:-1], url[-1] + tail
        return f'<a href="{url}">{url}</a>{tail}'

    return _URL.sub(link, escaped)


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand `message` to SERIALTRACE_SMTP_HOST for every recipient of its To and Cc, or raise MailError.

    Every recipient is checked with the server before the message goes out: when one is refused the transaction
    is reset and nobody gets it, so a retry never sends anyone a second copy.
    """
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if not mail_configured(settings):
        raise MailError("mail is off: SERIALTRACE_SMTP_HOST is not set")
    sender = getaddresses(message.get_all("From", []))
    recipients = [address for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
    if len(sender) != 1 or not recipients:
        raise MailError("a message needs one From address and at least one To or Cc address")
    data = message.as_bytes(policy=SMTP_POLICY)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
            _hello(smtp, settings, where)
            _transfer(smtp, where, sender[0][1], recipients, data)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"the mail server {where} refused the login of SERIALTRACE_SMTP_USER "
                        f"{settings.smtp_user!r}: {_reply(exc.smtp_code, exc.smtp_error)}") from None
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"the mail server {where} answered {_reply(exc.smtp_code, exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        # smtplib reports a read that timed out as a lost connection; the timeout is the useful part.
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            raise MailError(f"the mail server {where} did not answer within {settings.smtp_timeout:g} s") from None
        raise MailError(f"could not send mail through {where}: {exc}") from None


def _hello(smtp: smtplib.SMTP, settings: Settings, where: str) -> None:
    """Greet the server, upgrade to TLS and log in as configured."""
    smtp.ehlo_or_helo_if_needed()
    if settings.smtp_starttls:
        if not smtp.has_extn("starttls"):
            raise MailError(f"the mail server {where} does not offer STARTTLS (SERIALTRACE_SMTP_STARTTLS is on)")
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo()
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password)


def _transfer(smtp: smtplib.SMTP, where: str, sender: str, recipients: list[str], data: bytes) -> None:
    """MAIL, every RCPT, then DATA; any refusal resets the transaction before raising, so nothing is delivered."""
    code, reply = smtp.mail(sender)
    if code != 250:
        _abort(smtp)
        raise MailError(f"the mail server {where} refused the sender {sender}: {_reply(code, reply)}")
    refused = []
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused.append(f"{recipient} ({_reply(code, reply)})")
    if refused:
        _abort(smtp)
        raise MailError(f"the mail server {where} refused the recipient {', '.join(refused)}; nothing was sent")
    code, reply = smtp.data(data)
    if code != 250:
        _abort(smtp)
        raise MailError(f"the mail server {where} refused the message: {_reply(code, reply)}")


def _abort(smtp: smtplib.SMTP) -> None:
    """Cancel the open transaction; a server already gone has nothing to cancel, and its refusal is the news."""
    with suppress(smtplib.SMTPException, OSError):
        smtp.rset()


def _reply(code: int, reply: bytes | str) -> str:
    """A server reply as one readable line: `550 no such user`."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}"
