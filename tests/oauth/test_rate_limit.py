"""The token endpoint is rate limited per client (oauth.token_requests_per_minute), in the
database so every worker counts together; over the limit: 429 with Retry-After."""
import pytest

from tests.oauth.helpers import acme, client_credentials_token, oauth_client

LIMIT = 3


@pytest.fixture
def config_data(config_data):
    config_data["oauth"] = {"token_requests_per_minute": LIMIT}
    return config_data


def test_too_many_token_requests_get_429(client, db):
    """RFC 6585 §4: 429 Too Many Requests "MAY include a Retry-After header". With fixed one-minute
    windows, 2 x LIMIT + 1 quick requests overflow one window wherever the minute boundary falls."""
    row, secret = oauth_client(acme())
    responses = [client_credentials_token(client, row.client_id, secret) for _ in range(2 * LIMIT + 1)]
    limited = [response for response in responses if response.status_code == 429]
    assert limited, [response.status_code for response in responses]
    assert all(response.status_code in (200, 429) for response in responses)
    retry_after = int(limited[0].headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert limited[0].get_json() == {
        "error": "temporarily_unavailable",
        "error_description": f"Too many requests for this client; retry in {retry_after} seconds"}


def test_wrong_secrets_count_too(client, db):
    """Guessing a secret costs requests like any other."""
    row, secret = oauth_client(acme())
    statuses = [client_credentials_token(client, row.client_id, "allys_guess").status_code
                for _ in range(2 * LIMIT + 1)]
    assert 429 in statuses and set(statuses) <= {401, 429}


def test_clients_are_counted_apart(client, db):
    first, first_secret = oauth_client(acme(), name="one")
    second, second_secret = oauth_client(acme(), name="two")
    for _ in range(2 * LIMIT + 1):
        client_credentials_token(client, first.client_id, first_secret)
    assert client_credentials_token(client, second.client_id, second_secret).status_code == 200
