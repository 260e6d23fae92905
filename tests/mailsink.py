"""A real SMTP server for tests (aiosmtpd), with recipients it refuses on purpose."""

from __future__ import annotations

import asyncio
import socket
import threading

from aiosmtpd.controller import Controller

# Address prefix → the reply at RCPT.
REFUSALS = {
    "bounce": "550 5.1.1 No such user here",
    "gone": "551 5.1.6 User has moved",
    "badbox": "553 5.1.3 Mailbox name not allowed",
    "auth535": "535 5.7.8 Authentication credentials invalid",
    "busy": "451 4.3.0 Try again later",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for prefix, reply in REFUSALS.items():
            if address.startswith(prefix):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)  # a slow relay: each message takes this long
        with self.sink.lock:
            self.sink.messages.append(envelope)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, port: int | None = None, delay: float = 0):
        self.port = port or free_port()
        self.delay = delay  # seconds before each message is accepted
        self.messages = []
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def texts(self) -> list[str]:
        """Each message as headers + decoded body text."""
        import email
        from email import policy

        with self.lock:
            envelopes = list(self.messages)
        texts = []
        for envelope in envelopes:
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            body = message.get_body(preferencelist=("plain",)).get_content()
            texts.append(f"To: {message['To']}\nSubject: {message['Subject']}\n\n{body}")
        return texts
