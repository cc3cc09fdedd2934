"""SMTP security: STARTTLS and implicit TLS with a certificate checked against mail.ca_file, and
login (AUTH). A login or TLS failure is retried (an admin can fix the config) and the stored
reason never holds the password."""
import pytest
from aiosmtpd.smtp import AuthResult

from connector import outbox
from connector.db import database
from connector.delivery import run_once
from connector.models import OutboxMessage
from tests.connector.smtp_server import PASSWORD, USERNAME, check_login, mail_config, make_certificates, serving

# aiosmtpd warns about the implicit-TLS server below, which it does not know is TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def starttls_server(certificates):
    with serving(tls_context=certificates.server_context, require_starttls=True,
                 authenticator=check_login, auth_required=True) as server:
        yield server


@pytest.fixture
def tls_server(certificates):
    # aiosmtpd only counts STARTTLS as TLS when it decides whether to offer AUTH; this whole
    # connection is TLS, so AUTH is offered without that check.
    with serving(ssl_context=certificates.server_context, authenticator=check_login,
                 auth_required=True, auth_require_tls=False) as server:
        yield server


def deliver_one(settings, **mail):
    """Enqueue one message, run a pass with these mail settings, return the stored message."""
    with database.connection_context():
        message = outbox.enqueue(recipient="new.hire@outside.example", subject="Join Ally",
                                 body="Join: https://ally.test/join/x", kind="invitation")
        run_once(settings.mail.__class__(**mail))
        return OutboxMessage.get_by_id(message.id)


def test_starttls_and_login(app, settings, starttls_server, certificates):
    """RFC 3207: the client issues STARTTLS, then EHLO again, before AUTH (RFC 4954) and MAIL."""
    stored = deliver_one(settings, **mail_config(starttls_server, security="starttls", ca_file=certificates.ca_file,
                                                 username=USERNAME, password=PASSWORD))

    assert (stored.status, stored.last_error) == ("sent", None)
    [received] = starttls_server.handler.received
    assert received.login == USERNAME
    assert received.rcpt_tos == ["new.hire@outside.example"]


def test_implicit_tls_and_login(app, settings, tls_server, certificates):
    stored = deliver_one(settings, **mail_config(tls_server, security="tls", ca_file=certificates.ca_file,
                                                 username=USERNAME, password=PASSWORD))

    assert stored.status == "sent"
    assert [item.login for item in tls_server.handler.received] == [USERNAME]


def test_an_untrusted_certificate_is_refused_and_retried(app, settings, tls_server):
    stored = deliver_one(settings, **mail_config(tls_server, security="tls", username=USERNAME, password=PASSWORD))

    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error == f"TLS with 127.0.0.1:{tls_server.port} failed: CERTIFICATE_VERIFY_FAILED"
    assert tls_server.handler.received == []


def test_plain_smtp_to_a_server_that_requires_starttls_is_retried(app, settings, starttls_server):
    stored = deliver_one(settings, **mail_config(starttls_server))

    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error.startswith("sender no-reply@ally.example refused: 530 ")
    assert starttls_server.handler.received == []


def test_a_refused_login_is_retried_and_the_password_is_never_stored(app, settings, starttls_server, certificates):
    """RFC 4954 §6: 535 authentication credentials invalid."""
    wrong = "wr0ng-" + PASSWORD

    def echoing_login(server, session, envelope, mechanism, auth_data):
        # A server that quotes what it got must not put the password into our records.
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials {wrong}")

    starttls_server.smtp_options["authenticator"] = echoing_login
    starttls_server.stop()
    starttls_server.start()
    stored = deliver_one(settings, **mail_config(starttls_server, security="starttls", ca_file=certificates.ca_file,
                                                 username=USERNAME, password=wrong))

    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.last_error == f"login refused by 127.0.0.1:{starttls_server.port}: 535 5.7.8 bad credentials ***"
    assert wrong not in stored.last_error
