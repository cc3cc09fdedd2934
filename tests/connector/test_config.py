"""Configuration: every key validated, errors name the key, ALLY_* variables override the file."""
import pytest

from connector.config import ConfigError, Settings, load_settings


def write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file():
    settings = load_settings(None, env={})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///var/ally.db"
    assert settings.oauth.access_token_minutes == 60


def test_example_config_loads(repo_root):
    settings = load_settings(repo_root / "config.example.yaml", env={})
    assert settings.organisations[0].slug == "demo"
    assert settings.organisations[0].domains == ("example.com",)


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, "database_url: sqlite:///a.db\nmail:\n  smtp_port: 25\n")
    settings = load_settings(path, env={"ALLY_DATABASE_URL": "postgresql://db/ally",
                                        "ALLY_MAIL__SMTP_PORT": "2525",
                                        "ALLY_MAIL__WORKER_IN_SERVE": "true",
                                        "ALLY_TEST_POSTGRES_URL": "ignored", "ALLY_CONFIG": "ignored"})
    assert settings.database_url == "postgresql://db/ally"
    assert settings.mail.smtp_port == 2525
    assert settings.mail.worker_in_serve is True


@pytest.mark.parametrize("text, message", [
    ("databse_url: x\n", "databse_url: unknown key"),
    ("scim:\n  max_results: many\n", "scim.max_results: Not a valid integer."),
    ("oauth:\n  access_token_minutes: 14400\n", "oauth.access_token_minutes: Must be greater than or equal to 60"),
    ("mail:\n  security: ssl\n", "mail.security: Must be one of: none, starttls, tls."),
    ("database_url: mysql://x\n", "database_url: must start with sqlite:// or postgresql://"),
    ("organisations:\n  - slug: x\n", "organisations.0.name: Missing data for required field."),
    ("organisations:\n  - name: A\n    outside_domains: maybe\n", "organisations.0.outside_domains: Must be one of"),
    ("organisations:\n  - name: A\n    domains: 'acme.com,not a domain'\n", "organisations.0.domains: 'not a domain' is not a valid domain"),
    ("organisations:\n  - name: A\n  - name: a\n", "organisations: two organisations have the slug 'a'"),
    ("- just\n- a list\n", "must hold a mapping of keys"),
    ("key: [unclosed\n", "is not valid YAML"),
])
def test_bad_config_names_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    assert message in str(caught.value)


def test_bad_environment_variable_names_the_key():
    with pytest.raises(ConfigError, match="server.port: Not a valid integer"):
        load_settings(None, env={"ALLY_SERVER__PORT": "eighty"})
    with pytest.raises(ConfigError, match="databse_url: unknown key"):
        load_settings(None, env={"ALLY_DATABSE_URL": "sqlite:///x.db"})
    # `init` prunes the audit trail that far back: more than a century is a date before year 1
    with pytest.raises(ConfigError, match="audit.retention_days: Must be greater than or equal to 1 and less"):
        load_settings(None, env={"ALLY_AUDIT__RETENTION_DAYS": "800000"})


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file .*nope.yaml"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_domains_are_normalised(tmp_path):
    path = write(tmp_path, "organisations:\n  - name: A\n    domains: ' Acme.COM , Bücher.example'\n")
    assert load_settings(path, env={}).organisations[0].domains == ("acme.com", "xn--bcher-kva.example")
