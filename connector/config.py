"""Load config.yaml plus ALLY_* environment overrides into frozen Settings.

Every key is declared once, in the marshmallow schemas below; config.example.yaml documents
each of them. A bad file or variable stops the start with a message that names the key.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from connector.domains import normalise_domain
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

ENV_PREFIX = "ALLY_"
# Variables with the prefix that are not configuration keys.
ENV_NOT_KEYS = {"ALLY_CONFIG"}
ENV_NOT_KEY_PREFIXES = ("ALLY_TEST_",)
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the problem."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    timeout_seconds: int = 55
    statement_timeout_seconds: int = 30


@dataclass(frozen=True)
class ScimSettings:
    max_results: int = 1000
    default_count: int = 100
    max_body_bytes: int = 1_048_576
    bulk_max_operations: int = 1000
    bulk_max_payload_bytes: int = 1_048_576
    max_filter_length: int = 4096


@dataclass(frozen=True)
class OAuthSettings:
    access_token_minutes: int = 60
    refresh_token_days: int = 90
    client_secret_days: int = 730
    authorization_code_seconds: int = 600
    token_requests_per_minute: int = 60


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str | None = None
    smtp_port: int = 25
    security: str = "none"
    username: str | None = None
    password: str | None = None
    sender: str = "Ally <no-reply@ally.invalid>"
    ca_file: str | None = None
    timeout_seconds: int = 30
    max_attempts: int = 8
    backoff_seconds: int = 30
    backoff_max_seconds: int = 3600
    lease_seconds: int = 300
    batch_size: int = 20
    poll_seconds: int = 10
    worker_in_serve: bool = False


@dataclass(frozen=True)
class InvitationSettings:
    link_days: int = 14


@dataclass(frozen=True)
class AuditSettings:
    retention_days: int = 365


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = False
    allowed_clients: tuple[str, ...] = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class RateLimitSettings:
    enabled: bool = True
    per_credential_per_minute: int = 12_000
    per_organisation_per_minute: int = 30_000


@dataclass(frozen=True)
class OrganisationSettings:
    name: str
    slug: str
    domains: tuple[str, ...] = ()
    outside_domains: str = "invite"
    skip_invitations: bool = False
    admin_groups: tuple[str, ...] = ()
    admin_groups_are_teams: bool = True


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/ally.db"
    public_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    server: ServerSettings = field(default_factory=ServerSettings)
    scim: ScimSettings = field(default_factory=ScimSettings)
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    invitations: InvitationSettings = field(default_factory=InvitationSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    organisations: tuple[OrganisationSettings, ...] = ()


def _positive(**kwargs):
    return fields.Integer(validate=validate.Range(min=1), strict=True, **kwargs)


class _Section(Schema):
    """A config section: unknown keys are refused, the result is the section's dataclass."""

    dataclass: type = None

    class Meta:
        unknown = RAISE

    @post_load
    def build(self, data, **kwargs):
        return self.dataclass(**data)


class ServerSchema(_Section):
    dataclass = ServerSettings
    host = fields.String()
    port = fields.Integer(strict=True, validate=validate.Range(min=1, max=65535))
    workers = _positive()
    timeout_seconds = fields.Integer(strict=True, validate=validate.Range(min=5, max=59))
    statement_timeout_seconds = fields.Integer(strict=True, validate=validate.Range(min=0, max=58))

    @validates_schema
    def statements_end_before_requests(self, data, **kwargs):
        statement = data.get("statement_timeout_seconds", ServerSettings.statement_timeout_seconds)
        request = data.get("timeout_seconds", ServerSettings.timeout_seconds)
        if statement >= request:
            raise ValidationError(f"must be below server.timeout_seconds ({request}), or 0 for none",
                                  "statement_timeout_seconds")


class ScimSchema(_Section):
    dataclass = ScimSettings
    max_results = _positive()
    default_count = fields.Integer(strict=True, validate=validate.Range(min=0))
    max_body_bytes = _positive()
    bulk_max_operations = _positive()
    bulk_max_payload_bytes = _positive()
    max_filter_length = _positive()

    @validates_schema
    def default_within_max(self, data, **kwargs):
        default = data.get("default_count", ScimSettings.default_count)
        maximum = data.get("max_results", ScimSettings.max_results)
        if default > maximum:
            raise ValidationError("must not exceed scim.max_results", "default_count")


class OAuthSchema(_Section):
    dataclass = OAuthSettings
    # Entra's gallery rules: access tokens live between 60 minutes and 6 hours.
    access_token_minutes = fields.Integer(strict=True, validate=validate.Range(min=60, max=360))
    refresh_token_days = _positive()
    client_secret_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=1095))
    authorization_code_seconds = fields.Integer(strict=True, validate=validate.Range(min=30, max=600))
    token_requests_per_minute = _positive()


class MailSchema(_Section):
    dataclass = MailSettings
    smtp_host = fields.String(allow_none=True)
    smtp_port = fields.Integer(strict=True, validate=validate.Range(min=1, max=65535))
    security = fields.String(validate=validate.OneOf(["none", "starttls", "tls"]))
    username = fields.String(allow_none=True)
    password = fields.String(allow_none=True)
    sender = fields.String(validate=validate.Length(min=3))
    ca_file = fields.String(allow_none=True)
    timeout_seconds = fields.Integer(strict=True, validate=validate.Range(min=1, max=600))
    max_attempts = _positive()
    backoff_seconds = _positive()
    backoff_max_seconds = _positive()
    lease_seconds = _positive()
    batch_size = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))
    poll_seconds = _positive()
    worker_in_serve = fields.Boolean()

    @validates_schema
    def credentials_in_pairs(self, data, **kwargs):
        if bool(data.get("username")) != bool(data.get("password")):
            raise ValidationError("mail.username and mail.password go together: set both or neither", "username")

    @validates_schema
    def lease_covers_a_send(self, data, **kwargs):
        # A worker starts a message only while half its lease remains; that half must cover
        # a send whose every round trip runs into the timeout (connect, EHLO, TLS, DATA, ...).
        lease = data.get("lease_seconds", MailSettings.lease_seconds)
        timeout = data.get("timeout_seconds", MailSettings.timeout_seconds)
        if lease < 4 * timeout:
            raise ValidationError(f"must be at least 4 x mail.timeout_seconds ({4 * timeout})", "lease_seconds")

    @validates_schema
    def cap_not_below_first_delay(self, data, **kwargs):
        first = data.get("backoff_seconds", MailSettings.backoff_seconds)
        if data.get("backoff_max_seconds", MailSettings.backoff_max_seconds) < first:
            raise ValidationError("must not be below mail.backoff_seconds", "backoff_max_seconds")


class InvitationSchema(_Section):
    dataclass = InvitationSettings
    link_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=90))


class AuditSchema(_Section):
    dataclass = AuditSettings
    retention_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=36_500))  # a century at most


class AddressList(fields.Field):
    """IP addresses or networks (CIDR), as a list or one comma-separated string."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("must be a list of IP addresses or networks, or a comma-separated string")
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValidationError(f"{entry!r} is not an IP address or network") from None
        return tuple(value)


class MetricsSchema(_Section):
    dataclass = MetricsSettings
    enabled = fields.Boolean()
    allowed_clients = AddressList()


class RateLimitSchema(_Section):
    dataclass = RateLimitSettings
    enabled = fields.Boolean()
    per_credential_per_minute = _positive()
    per_organisation_per_minute = _positive()


class DomainList(fields.Field):
    """A list of domains, or Ally's Signup Mode form: one string, comma-separated."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("must be a list of domains or a comma-separated string")
        try:
            return tuple(normalise_domain(v) for v in value if v.strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class OrganisationSchema(_Section):
    dataclass = OrganisationSettings
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    slug = fields.String(validate=validate.Regexp(SLUG_RE, error="must be lower-case letters, digits and dashes"))
    domains = DomainList()
    outside_domains = fields.String(validate=validate.OneOf(["invite", "reject"]))
    skip_invitations = fields.Boolean()
    admin_groups = fields.List(fields.String(validate=validate.Length(min=1)))
    admin_groups_are_teams = fields.Boolean()

    @post_load
    def build(self, data, **kwargs):
        data.setdefault("slug", slugify(data["name"]))
        if "admin_groups" in data:
            data["admin_groups"] = tuple(data["admin_groups"])
        return OrganisationSettings(**data)


class SettingsSchema(_Section):
    dataclass = Settings
    database_url = fields.String(validate=validate.Regexp(r"^(sqlite|postgres|postgresql)(\+pool)?://",
                                                          error="must start with sqlite:// or postgresql://"))
    public_url = fields.Url(require_tld=False, schemes={"http", "https"})
    log_level = fields.String(validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]))
    server = fields.Nested(ServerSchema)
    scim = fields.Nested(ScimSchema)
    oauth = fields.Nested(OAuthSchema)
    mail = fields.Nested(MailSchema)
    invitations = fields.Nested(InvitationSchema)
    audit = fields.Nested(AuditSchema)
    metrics = fields.Nested(MetricsSchema)
    rate_limit = fields.Nested(RateLimitSchema)
    organisations = fields.List(fields.Nested(OrganisationSchema))

    @validates_schema
    def unique_slugs(self, data, **kwargs):
        seen = set()
        for org in data.get("organisations", ()):
            if org.slug in seen:
                raise ValidationError(f"two organisations have the slug {org.slug!r}", "organisations")
            seen.add(org.slug)

    @post_load
    def build(self, data, **kwargs):
        if "public_url" in data:
            data["public_url"] = data["public_url"].rstrip("/")
        if "organisations" in data:
            data["organisations"] = tuple(data["organisations"])
        return Settings(**data)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64].strip("-") or "org"


def load_settings(path: str | os.PathLike | None = None, env: dict | None = None) -> Settings:
    """Read the YAML file (if any), apply ALLY_* overrides from env, validate, freeze."""
    env = os.environ if env is None else env
    data = _read_yaml(path) if path else {}
    _apply_env(data, env)
    try:
        return SettingsSchema().load(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.messages)) from None


def settings_from_dict(data: dict) -> Settings:
    """Validate an in-memory config (used by tests and tools); no environment applied."""
    try:
        return SettingsSchema().load(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.messages)) from None


def config_path_from_env(env: dict | None = None) -> str | None:
    env = os.environ if env is None else env
    if env.get("ALLY_CONFIG"):
        return env["ALLY_CONFIG"]
    return "config.yaml" if Path("config.yaml").exists() else None


def _read_yaml(path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, not {type(data).__name__}")
    return data


def _apply_env(data: dict, env) -> None:
    """ALLY_DATABASE_URL sets database_url; ALLY_MAIL__SMTP_HOST sets mail.smtp_host."""
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_KEYS or name.startswith(ENV_NOT_KEY_PREFIXES):
            continue
        keys = name[len(ENV_PREFIX):].lower().split("__")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (dict, list)) and keys != ["organisations"]:
            value = raw
        target = data
        for key in keys[:-1]:
            section = target.setdefault(key, {})
            if not isinstance(section, dict):
                raise ConfigError(f"{name}: {'.'.join(keys[:-1])} is not a section")
            target = section
        target[keys[-1]] = value if value is not None or keys[-1] in _NULLABLE else raw


_NULLABLE = {"smtp_host", "username", "password", "ca_file"}


def _describe(messages, prefix="") -> str:
    """Flatten marshmallow's nested messages into 'key.sub: problem' lines."""
    lines = []
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if key == "_schema":
            name = prefix.rstrip(".") or "config"
        if isinstance(value, dict):
            lines.append(_describe(value, f"{name}."))
        else:
            problems = value if isinstance(value, list) else [value]
            text = "; ".join(str(p) for p in problems)
            if text == "Unknown field.":
                text = "unknown key (see config.example.yaml for the keys there are)"
            lines.append(f"{name}: {text}")
    return "\n".join(lines)
