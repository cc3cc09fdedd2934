"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1 on a free port, with a handler
that records what it accepts and can be told to refuse recipients (5xx) or to answer 421.

Also a throwaway certificate authority (cryptography) for the STARTTLS and implicit-TLS tests.
"""
from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
USERNAME = "ally-mailer"
PASSWORD = "s3cret-smtp-pass"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    login: str | None


class RecordingHandler:
    """Accepts mail and keeps it; `refuse[address] = "550 ..."` refuses a recipient for good;
    `temporary_failures = n` answers the next n recipients with 421; `on_accept()` is called
    after each accepted message."""

    def __init__(self):
        self.received: list[Received] = []
        self.on_accept = None
        self.refuse: dict[str, str] = {}
        self.temporary_failures = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if self.temporary_failures:
                self.temporary_failures -= 1
                return "421 4.3.2 Service not available, try again later"
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        login = session.auth_data.login.decode() if session.auth_data else None
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        if self.on_accept:
            self.on_accept()
        return "250 2.0.0 Message accepted for delivery"

    def recipients(self) -> list[str]:
        with self.lock:
            return [rcpt for item in self.received for rcpt in item.rcpt_tos]


def check_login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, auth_data=auth_data if ok else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An aiosmtpd Controller bound to 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self, port: int | None = None, **smtp_options):
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.smtp_options = smtp_options
        self.controller = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, **self.smtp_options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def serving(**smtp_options):
    server = SmtpServer(**smtp_options).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server():
    with serving() as server:
        yield server


def mail_config(server: SmtpServer, **overrides) -> dict:
    return {"smtp_host": HOST, "smtp_port": server.port, "sender": "Ally <no-reply@ally.example>",
            "backoff_seconds": 60, "max_attempts": 3, **overrides}


@dataclass
class Certificates:
    ca_file: str
    server_context: ssl.SSLContext


def make_certificates(directory) -> Certificates:
    """A CA and a server certificate for 127.0.0.1 signed by it; clients trust the CA file."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ally test CA")])
    ca_cert = (_certificate(ca_name, ca_name, ca_key.public_key(), ca_key)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_key_usage(ca=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    server_cert = (_certificate(server_name, ca_name, server_key.public_key(), ca_key)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(_key_usage(ca=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)),
                                                               x509.DNSName("localhost")]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return Certificates(str(ca_file), context)


def _certificate(subject, issuer, public_key, signing_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1)))


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=not ca,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)
