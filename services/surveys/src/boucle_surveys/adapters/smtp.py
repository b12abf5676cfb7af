"""Sending over SMTP (the standard library's client, in a worker thread so the event loop
keeps serving). The Message-ID is the one composed for the solicitation and step."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from boucle_surveys.dispatch import MailError
from boucle_surveys.domain.mail import Mail


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 20.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = mail.message_id
        message["Date"] = formatdate(localtime=False)
        message.set_content(mail.body)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as server:
                if self._starttls:
                    server.starttls()
                if self._username and self._password:
                    server.login(self._username, self._password)
                server.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(type(error).__name__) from error
