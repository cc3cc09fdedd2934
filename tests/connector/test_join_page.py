"""The join link of an invitation email: GET /join/<token> shows the invitation, POSTing its
form (with the CSRF token) makes the user active; refused links get a clear 404/410 page."""
import re
from datetime import timedelta

import pytest

from connector import deletion, directory, objectives
from connector.clock import utcnow
from connector.models import AuditEvent, Invitation, User
from tests.connector.conftest import join_token

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
JOIN = "https://ally.test/join/"  # public_url is https: the browser cookie is Secure


@pytest.fixture
def invited(make_user):
    """An invited user (outside the work domains) and the token of their join link."""
    user = make_user("ann@outside.example")
    return user, join_token("ann@outside.example")


def open_page(client, token):
    page = client.get(f"{JOIN}{token}")
    match = CSRF.search(page.get_data(as_text=True))
    return page, match.group(1) if match else None


def accept(client, token, csrf):
    return client.post(f"{JOIN}{token}", data={"csrf_token": csrf})


def test_page_shows_the_invitation(client, invited):
    user, token = invited
    page, csrf = open_page(client, token)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Join Acme Corp on Ally" in html
    assert "ann@outside.example" in html
    assert f'<form method="post" action="/join/{token}">' in html
    assert "Accept invitation" in html
    assert csrf and len(csrf) >= 40
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("ally_join=") and all(flag in cookie for flag in ("Secure", "HttpOnly", "Path=/join"))
    assert User.get_by_id(user.id).status == "invited"
    assert Invitation.get(Invitation.user == user).accepted_at is None


def test_accepting_makes_the_user_active_and_is_audited(client, invited):
    user, token = invited
    _, csrf = open_page(client, token)
    done = accept(client, token, csrf)
    assert done.status_code == 200
    assert "You have joined as <strong>ann@outside.example</strong>" in done.get_data(as_text=True)
    stored = User.get_by_id(user.id)
    assert stored.status == "active" and stored.joined_at is not None
    event = AuditEvent.get(AuditEvent.action == "user.joined")
    assert (event.actor, event.target_id, event.changes) == ("join-link", user.id, {"status": ["invited", "active"]})
    assert token not in str(event.changes)


@pytest.mark.parametrize("sent", [None, "", "forged-token-value"])
def test_post_without_the_pages_csrf_token_is_refused(client, invited, sent):
    user, token = invited
    open_page(client, token)
    data = {} if sent is None else {"csrf_token": sent}
    refused = client.post(f"{JOIN}{token}", data=data)
    assert refused.status_code == 400
    assert "This form has expired or did not come from this page" in refused.get_data(as_text=True)
    assert User.get_by_id(user.id).status == "invited"
    assert Invitation.get(Invitation.user == user).accepted_at is None


def test_csrf_token_of_another_browser_or_link_is_refused(app, make_user, invited):
    user, token = invited
    _, csrf = open_page(app.test_client(), token)
    other_browser = app.test_client()
    open_page(other_browser, token)
    assert accept(other_browser, token, csrf).status_code == 400  # its own cookie does not match the form
    assert accept(app.test_client(), token, csrf).status_code == 400  # no cookie at all
    make_user("bo@outside.example")
    other_token = join_token("bo@outside.example")
    browser = app.test_client()
    _, csrf_for_other_link = open_page(browser, other_token)
    assert accept(browser, token, csrf_for_other_link).status_code == 400
    assert User.get_by_id(user.id).status == "invited"


def test_expired_link(client, invited):
    user, token = invited
    _, csrf = open_page(client, token)
    Invitation.update(expires_at=utcnow() - timedelta(seconds=1)).where(Invitation.user == user).execute()
    for answer in (client.get(f"{JOIN}{token}"), accept(client, token, csrf)):
        assert answer.status_code == 410
        html = answer.get_data(as_text=True)
        assert "This invitation link has expired" in html
        assert "Ask your Ally admin to send you a new invitation" in html
    assert User.get_by_id(user.id).status == "invited"


def test_used_link_cannot_be_used_again(client, invited):
    user, token = invited
    _, csrf = open_page(client, token)
    assert accept(client, token, csrf).status_code == 200
    page, _ = open_page(client, token)
    assert page.status_code == 410
    assert "This invitation link has already been used" in page.get_data(as_text=True)
    again = accept(client, token, csrf)
    assert again.status_code == 410
    assert AuditEvent.select().where(AuditEvent.action == "user.joined").count() == 1


def test_replaced_link_is_not_found(client, invited):
    user, token = invited
    directory.resend_invitation(user)
    page = client.get(f"{JOIN}{token}")
    assert page.status_code == 404
    assert "This invitation link is not valid" in page.get_data(as_text=True)


def test_suspended_users_link_stops_working(client, invited):
    """Suspending revokes the link: the page says it is not valid."""
    user, token = invited
    _, csrf = open_page(client, token)
    directory.suspend(user)
    for answer in (client.get(f"{JOIN}{token}"), accept(client, token, csrf)):
        assert answer.status_code == 404
        assert "This invitation link is not valid" in answer.get_data(as_text=True)
    assert User.get_by_id(user.id).status == "suspended"


def test_suspended_user_with_a_link_left_open_gets_allys_text(client, invited):
    user, token = invited
    _, csrf = open_page(client, token)
    User.update(status="suspended").where(User.id == user.id).execute()  # a suspension that left the link open
    for answer in (client.get(f"{JOIN}{token}"), accept(client, token, csrf)):
        assert answer.status_code == 410
        assert "This account has been suspended" in answer.get_data(as_text=True)
    assert Invitation.get(Invitation.user == user).accepted_at is None


def test_deleted_users_link_is_not_found(client, invited):
    user, token = invited
    _, csrf = open_page(client, token)
    deletion.delete_user(user)
    for answer in (client.get(f"{JOIN}{token}"), accept(client, token, csrf)):
        assert answer.status_code == 404
        assert "This invitation link is not valid" in answer.get_data(as_text=True)


def test_link_of_a_user_pending_deletion_is_not_found(client, org, invited):
    user, token = invited
    objectives.add_objective(org, user, "Grow")
    assert deletion.scim_delete_user(user) == "pending_deletion"
    assert client.get(f"{JOIN}{token}").status_code == 404


@pytest.mark.parametrize("token", ["nope", "x" * 43, "%3Cscript%3E"])
def test_unknown_link(client, org, token):
    page = client.get(f"{JOIN}{token}")
    assert page.status_code == 404
    assert "This invitation link is not valid" in page.get_data(as_text=True)
    assert client.post(f"{JOIN}{token}").status_code == 400  # no form from the page: CSRF first


def test_names_are_escaped(client, org):
    from connector.organisations import create_organisation

    evil = create_organisation("Evil <script>alert(1)</script> Inc", slug="evil")
    directory.create_user(evil, {"user_name": "mal@outside.example", "given_name": "<script>alert('x')</script>",
                                 "family_name": "O'Brien & <b>Co</b>"},
                          values={"emails": [{"value": "mal@outside.example", "primary": True}]})
    token = join_token("mal@outside.example")
    page, csrf = open_page(client, token)
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "<b>" not in html
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt; Inc" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; O&#39;Brien &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    done = accept(client, token, csrf)
    assert done.status_code == 200
    assert "<script>" not in done.get_data(as_text=True)


def test_health_check_needs_no_secret_key(client, app):
    """Requests without a session never load the key (health checks work while it is unset)."""
    assert client.get("/healthz").status_code == 200
    assert "Set-Cookie" not in client.get("/healthz").headers
    assert not app.secret_key
