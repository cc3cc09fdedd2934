"""The Flask secret key is generated once and shared through the database, so a session cookie
set by one worker is good in every other."""
from connector import create_app
from connector.models import Setting
from connector.secret_key import SETTING_KEY
from tests.oauth.helpers import PASSWORD, acme, admin_user, csrf_of


def test_key_is_made_once_and_shared(app, settings, db):
    other_worker = create_app(settings)
    first, second = app.test_client(), other_worker.test_client()
    page = first.get("/oauth/login")
    assert app.secret_key and Setting.get(Setting.key == SETTING_KEY).value == app.secret_key
    # The second worker verifies the first one's session cookie: the CSRF token checks out,
    # so the form gets as far as checking the password.
    cookie = first.get_cookie("session", path="/oauth")
    second.set_cookie(cookie.key, cookie.value, path="/oauth")
    response = second.post("/oauth/login", data={"csrf_token": csrf_of(page), "email": "x@acme.example",
                                                 "password": "not it at all"})
    assert response.status_code == 401
    assert other_worker.secret_key == app.secret_key
    assert Setting.select().where(Setting.key == SETTING_KEY).count() == 1


def test_forged_session_is_not_trusted(client, db):
    client.get("/oauth/login")
    client.set_cookie("session", "eyJjc3JmIjoiYWJjIn0.forged.signature", path="/oauth")
    response = client.post("/oauth/login", data={"csrf_token": "abc", "email": "x", "password": "y"})
    assert response.status_code == 400


def test_requests_without_a_session_do_not_load_the_key(client, app, db):
    assert client.get("/healthz").status_code == 200
    assert app.secret_key is None
    assert not Setting.select().where(Setting.key == SETTING_KEY).exists()


def test_session_cookie_is_scoped_and_hardened(client, db):
    response = client.get("/oauth/login")
    cookie = response.headers["Set-Cookie"]
    for part in ("Path=/oauth", "HttpOnly", "SameSite=Lax", "Secure"):
        assert part in cookie


def test_a_scim_request_neither_sets_nor_varies_on_a_cookie(client, idp_token, app):
    response = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {idp_token}"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.vary
    assert app.secret_key is None


def test_signing_out_deletes_the_session_cookie(client, db):
    admin_user(acme(), "ada@acme.example")
    page = client.get("/oauth/login")
    signing_in = client.post("/oauth/login", data={"csrf_token": csrf_of(page), "email": "ada@acme.example",
                                                   "password": PASSWORD})
    assert signing_in.status_code == 302
    signed_in = client.get("/oauth/login")
    response = client.post("/oauth/logout", data={"csrf_token": csrf_of(signed_in)})
    assert response.status_code == 302
    cleared = response.headers["Set-Cookie"]
    assert cleared.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in cleared and "Path=/oauth" in cleared
    assert client.get_cookie("session", path="/oauth") is None
