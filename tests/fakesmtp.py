"""A real SMTP server for tests (aiosmtpd on 127.0.0.1): keeps the messages it accepts, refuses `unknown@` boxes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, NamedTuple

from aiosmtpd.controller import Controller

# A recipient whose mailbox starts so is answered 550, as a server does for a mailbox it does not have.
REFUSED_LOCAL_PART = "unknown"


@dataclass(frozen=True)
class Received:
    """One message the server accepted: the envelope sender and recipients, and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpServer(NamedTuple):
    """Where the server listens and what it has received so far."""

    host: str
    port: int
    received: list[Received]


class CollectingHandler:
    """Accepts mail for any mailbox but `unknown@...` and keeps what arrives."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:
        """Refuse the unknown mailbox, take the others."""
        if address.lower().startswith(f"{REFUSED_LOCAL_PART}@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message as a mail client would parse it."""
        message = message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_smtp(**controller_options: Any) -> Iterator[SmtpServer]:
    """Run an SMTP server on a free port of 127.0.0.1 for the block; options go to aiosmtpd's Controller."""
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **controller_options)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler.received)
    finally:
        controller.stop()
