"""Configuration, read once at the edge (STYLE.md §8): environment → one immutable `Config`.

Embedded default (no settings at all): data under `CROSSLINE_DATA_DIR` (default `./var`) — the
SQLite file and a key file created on first start with mode 600. Production
(`CROSSLINE_PRODUCTION=1`): every key must come from the environment; a missing or placeholder
key stops start-up with a message naming the variable. Secrets never print.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Words an operator leaves in a template. The short ones count only as a leading word ("TODO: …",
# "xxx-…"): random base64 contains "xxx" somewhere in about one key in 500, and that key is real.
PLACEHOLDERS = ("change-me", "changeme", "placeholder", "secret", "example")
SHORT_PLACEHOLDER = re.compile(r"(xxx|todo)([^a-z0-9]|$)")
KEY_VARIABLES = {
    "secret_key": "CROSSLINE_SECRET_KEY",
    "encryption_keys": "CROSSLINE_ENCRYPTION_KEYS",
    "index_key": "CROSSLINE_INDEX_KEY",
    "audit_key": "CROSSLINE_AUDIT_KEY",
}


class ConfigError(Exception):
    """Start-up must stop: the message names the setting and what is wrong."""


@dataclass(frozen=True)
class Config:
    production: bool
    data_dir: Path
    database_url: str
    base_url: str
    secret_key: str = field(repr=False)
    encryption_keys: Mapping[str, bytes] = field(repr=False)  # key id -> 32 bytes; first active
    active_key_id: str = ""
    index_key: bytes = field(default=b"", repr=False)
    # The audit chain's HMAC keys by id (a1, a2, …: the number orders them); the first signs.
    audit_keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    audit_key_id: str = ""
    base_url_configured: bool = False  # CROSSLINE_BASE_URL set: links use it, not the request
    debug: bool = False
    allowed_hosts: tuple[str, ...] = ()
    rate_limit_per_minute: int = 30
    # CDS Hooks calls per calling address per minute (an EHR calls for all its clinicians from
    # a few addresses), counted before the caller's token is checked: refusals count too.
    cds_rate_limit_per_minute: int = 600
    trusted_proxies: int = 0  # reverse proxies in front that append to X-Forwarded-For
    # Where `crossline audit anchor` appends the audit chain's head: outside the database.
    audit_anchor_path: Path = Path("var/audit-anchors.log")
    # Notifications (alerts, visit invitations): SMTP relay and an optional paging webhook.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    mail_from: str = "crossline@localhost"
    alert_webhook_url: str = ""
    # The receiver checks each webhook POST with this shared secret (HMAC-SHA256; see
    # docs/operations.md). Required whenever a webhook URL is set.
    alert_webhook_secret: bytes = field(default=b"", repr=False)
    # GET /metrics answers a scrape that sends this bearer token; unset, /metrics is off (404).
    metrics_token: bytes = field(default=b"", repr=False)
    # `crossline serve` sends gunicorn's request metrics (rate, duration, status) to a StatsD
    # server at this "host:port" (UDP); empty: none are sent. Metric names only, never paths.
    statsd_address: str = ""
    # `crossline worker` anchors the audit chain's head this often.
    anchor_every_minutes: float = 15.0
    # Course reminders by SMS: the sender, "disabled" (default: no phone number is used),
    # "console" (development: logs a masked number only) or a dotted path to a class with
    # `send(to, body)` (crossline.course.sms; docs/operations.md).
    sms_backend: str = "disabled"
    # The zone staff pages show times in (an IANA name, e.g. America/New_York). Stored times
    # are UTC whatever it is; patients' course pages use each course's own zone.
    time_zone: str = "UTC"
    # The EHRs trusted to call the CDS Hooks service: issuer (the JWT's `iss`) -> its public
    # JWK Set, from the JSON file CROSSLINE_CDS_CLIENTS_FILE (docs/operations.md). Empty: every
    # call is refused (401); discovery, which says nothing about anyone, stays open.
    cds_clients: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)


def from_environment(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    production = env.get("CROSSLINE_PRODUCTION", "") in ("1", "true", "yes")
    data_dir = Path(env.get("CROSSLINE_DATA_DIR", "var")).resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'crossline.sqlite3'}"
    base_url = env.get("CROSSLINE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    keys = _keys_from_env(env) if production else _keys_from_data_dir(data_dir, env)
    ring = parse_key_ring(keys["encryption_keys"], "CROSSLINE_ENCRYPTION_KEYS")
    audit_ring = parse_audit_keys(keys["audit_key"])
    host = urlsplit(base_url).hostname or "127.0.0.1"
    hosts = env.get("CROSSLINE_ALLOWED_HOSTS", "")
    return Config(
        production=production,
        data_dir=data_dir,
        database_url=database_url,
        base_url=base_url,
        base_url_configured=bool(env.get("CROSSLINE_BASE_URL")),
        secret_key=keys["secret_key"],
        encryption_keys=ring,
        active_key_id=next(iter(ring)),
        index_key=_b64(keys["index_key"], "CROSSLINE_INDEX_KEY"),
        audit_keys=audit_ring,
        audit_key_id=next(iter(audit_ring)),
        debug=env.get("CROSSLINE_DEBUG", "") == "1" and not production,
        allowed_hosts=tuple(h for h in hosts.split(",") if h) or (host, "127.0.0.1", "localhost"),
        rate_limit_per_minute=_count(env, "CROSSLINE_RATE_LIMIT_PER_MINUTE", 30),
        cds_rate_limit_per_minute=_count(env, "CROSSLINE_CDS_RATE_LIMIT_PER_MINUTE", 600),
        trusted_proxies=_whole(env, "CROSSLINE_TRUSTED_PROXIES", 0, least=0),
        audit_anchor_path=Path(
            env.get("CROSSLINE_AUDIT_ANCHOR_FILE") or data_dir / "audit-anchors.log"
        ).resolve(),
        smtp_host=env.get("CROSSLINE_SMTP_HOST", "127.0.0.1"),
        smtp_port=_whole(env, "CROSSLINE_SMTP_PORT", 25, least=1, most=65535),
        mail_from=env.get("CROSSLINE_MAIL_FROM", "crossline@localhost"),
        alert_webhook_url=env.get("CROSSLINE_ALERT_WEBHOOK_URL", ""),
        alert_webhook_secret=_webhook_secret(env),
        metrics_token=_metrics_token(env),
        statsd_address=_statsd_address(env),
        anchor_every_minutes=_positive(env, "CROSSLINE_AUDIT_ANCHOR_EVERY_MINUTES", 15.0),
        sms_backend=env.get("CROSSLINE_SMS_BACKEND", "").strip() or "disabled",
        time_zone=_time_zone(env),
        cds_clients=_cds_clients(env),
    )


# Public-key signatures only: CDS Hooks forbids `none` and shared-secret (HMAC) algorithms.
CDS_ALGORITHMS = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512")


def _cds_clients(env: Mapping[str, str]) -> dict[str, Mapping[str, Any]]:
    """`{"clients": [{"iss": "https://ehr.example", "jwks": {"keys": [...]}}]}`: each issuer
    once, each key public (no private or symmetric key material) and usable by PyJWT."""
    name = "CROSSLINE_CDS_CLIENTS_FILE"
    path = env.get(name, "").strip()
    if not path:
        return {}
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{name}: cannot read {path!r} as JSON ({exc})") from None
    clients = doc.get("clients") if isinstance(doc, dict) else None
    if not isinstance(clients, list) or not clients:
        raise ConfigError(f'{name}: expected {{"clients": [{{"iss": …, "jwks": …}}]}}')
    out: dict[str, Mapping[str, Any]] = {}
    for i, client in enumerate(clients):
        where = f"{name}: clients[{i}]"
        iss = client.get("iss") if isinstance(client, dict) else None
        jwks = client.get("jwks") if isinstance(client, dict) else None
        if not isinstance(iss, str) or not iss:
            raise ConfigError(f"{where}.iss: required, the issuer the EHR's tokens name")
        if iss in out:
            raise ConfigError(f"{where}.iss: {iss!r} is listed twice")
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not keys:
            raise ConfigError(f"{where}.jwks: required, a JWK Set with at least one key")
        kids: set[str] = set()
        for j, key in enumerate(keys):
            problem = _public_signing_key_problem(key)
            if not problem and key["kid"] in kids:
                problem = f"kid {key['kid']!r} is listed twice"
            if problem:
                raise ConfigError(f"{where}.jwks.keys[{j}]: {problem}")
            kids.add(key["kid"])
        out[iss] = {"keys": keys}
    return out


def _public_signing_key_problem(key: Any) -> str:
    import jwt

    if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
        return "each key needs a `kid` (CDS Hooks tokens name their key)"
    if key.get("kty") not in ("EC", "RSA"):
        return "only EC or RSA public keys (CDS Hooks forbids shared-secret signatures)"
    if "d" in key:
        return "this is a private key: give the EHR's public key only"
    if key.get("alg") is not None and key["alg"] not in CDS_ALGORITHMS:
        return f"alg {key['alg']!r} is not one of {', '.join(CDS_ALGORITHMS)}"
    try:
        jwt.PyJWK(key)
    except jwt.PyJWTError as exc:
        return f"not a usable key ({exc})"
    return ""


def _time_zone(env: Mapping[str, str]) -> str:
    name = env.get("CROSSLINE_TIME_ZONE", "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"CROSSLINE_TIME_ZONE: {name!r} is not a time zone name (e.g. America/New_York)"
        ) from None
    return name


def _webhook_secret(env: Mapping[str, str]) -> bytes:
    """The alert webhook's signing secret: required, and not a placeholder, once a URL is set."""
    secret = env.get("CROSSLINE_ALERT_WEBHOOK_SECRET", "").strip()
    if not env.get("CROSSLINE_ALERT_WEBHOOK_URL"):
        return secret.encode()
    if not secret:
        raise ConfigError(
            "CROSSLINE_ALERT_WEBHOOK_SECRET is not set (required with CROSSLINE_ALERT_WEBHOOK_URL)"
        )
    return _strong("CROSSLINE_ALERT_WEBHOOK_SECRET", secret).encode()


def _metrics_token(env: Mapping[str, str]) -> bytes:
    """Optional; when set, long enough and not a placeholder (it guards operational counts)."""
    token = env.get("CROSSLINE_METRICS_TOKEN", "").strip()
    return _strong("CROSSLINE_METRICS_TOKEN", token).encode() if token else b""


def _statsd_address(env: Mapping[str, str]) -> str:
    """Optional "host:port" of a StatsD server (an IPv6 host in brackets: "[::1]:8125")."""
    value = env.get("CROSSLINE_STATSD_ADDRESS", "").strip()
    if not value:
        return ""
    host, sep, port = value.rpartition(":")
    if not sep or not host or host in ("[]",) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"CROSSLINE_STATSD_ADDRESS: {value!r} is not host:port (e.g. 127.0.0.1:8125)"
        )
    return value


def _strong(variable: str, value: str) -> str:
    """`value`, unless it looks like a placeholder or is under 32 characters."""
    if looks_like_placeholder(value) or len(value) < 32:
        raise ConfigError(f"{variable} looks like a placeholder or is too short")
    return value


def _positive(env: Mapping[str, str], variable: str, default: float) -> float:
    try:
        value = float(env.get(variable) or default)
    except ValueError:
        raise ConfigError(f"{variable}: not a number") from None
    if not value > 0:
        raise ConfigError(f"{variable}: must be more than 0")
    return value


def _count(env: Mapping[str, str], variable: str, default: int) -> int:
    """A whole number of at least 1 (a limit: 0 would refuse everyone), or start-up stops."""
    return _whole(env, variable, default, least=1)


def _whole(
    env: Mapping[str, str], variable: str, default: int, least: int, most: int | None = None
) -> int:
    """A whole number from `least` to `most`, or start-up stops naming the setting (never a
    traceback: `int()` would also take "+3", " 3" and "3_0")."""
    raw = (env.get(variable) or "").strip() or str(default)
    value = int(raw) if raw.isascii() and raw.isdigit() else None
    if value is None or value < least or (most is not None and value > most):
        span = f"at least {least}" if most is None else f"from {least} to {most}"
        raise ConfigError(f"{variable}: must be a whole number {span}, not {raw!r}")
    return value


def _keys_from_env(env: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, variable in KEY_VARIABLES.items():
        value = env.get(variable, "").strip()
        if not value:
            raise ConfigError(f"{variable} is not set (required in production mode)")
        out[name] = _strong(variable, value)
    return out


def looks_like_placeholder(value: str) -> bool:
    """Each part of a value ("id:material,…" for a key ring) judged on its material."""
    for part in value.lower().split(","):
        material = part.strip().rpartition(":")[2]
        if (
            any(p in part for p in PLACEHOLDERS)
            or SHORT_PLACEHOLDER.match(part.strip())
            or SHORT_PLACEHOLDER.match(material)
            or len(set(material)) < 8  # "aaaa…", "0000…", "1234123412341234…"
        ):
            return True
    return False


def _keys_from_data_dir(data_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Embedded default: keys created once in DATA_DIR/keys.toml (mode 600), env overrides."""
    path = data_dir / "keys.toml"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = new_keys()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                "# crossline keys — keep secret, keep backed up (losing them loses the data)\n"
            )
            fh.writelines(f'{k} = "{v}"\n' for k, v in fresh.items())
    stored = tomllib.loads(path.read_text())
    return {k: env.get(v) or stored[k] for k, v in KEY_VARIABLES.items()}


def new_keys() -> dict[str, str]:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return {
        "secret_key": secrets.token_urlsafe(50),
        "encryption_keys": f"k1:{key}",
        "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "audit_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


MAX_KEY_ID_BYTES = 255


def parse_key_ring(value: str, variable: str) -> dict[str, bytes]:
    """ "id1:base64,id2:base64" — the first key encrypts; all decrypt (rotation)."""
    ring = _ring(value, variable, "id:base64key[,id:base64key…]", bool)
    for key_id, key in ring.items():
        if len(key_id.encode()) > MAX_KEY_ID_BYTES:  # the ciphertext holds its length in a byte
            raise ConfigError(
                f"{variable}: key id {key_id[:20]}… is longer than {MAX_KEY_ID_BYTES} bytes"
            )
        if len(key) != 32:
            raise ConfigError(f"{variable}: key {key_id} must be 32 bytes (AES-256)")
    return ring


def _ring(
    value: str, variable: str, expected: str, id_ok: Callable[[str], bool]
) -> dict[str, bytes]:
    """The "id:base64,…" entries in their order; a bad id or a repeated one stops start-up (a
    repeated id would silently replace the key before it)."""
    ring: dict[str, bytes] = {}
    for part in value.split(","):
        key_id, sep, material = part.strip().partition(":")
        if not sep or not id_ok(key_id):
            raise ConfigError(f"{variable}: expected {expected}")
        if key_id in ring:
            raise ConfigError(f"{variable}: key {key_id} is listed twice")
        ring[key_id] = _b64(material, variable)
    return ring


AUDIT_KEY_ID = re.compile(r"a([1-9][0-9]{0,5})")


def parse_audit_keys(value: str) -> dict[str, bytes]:
    """CROSSLINE_AUDIT_KEY: one base64 key (the original form; its id is a1) or a ring
    "a2:base64,a1:base64". The first key signs new audit entries; every key verifies the
    entries it signed. Ids are "a" and a number, and the number orders the keys: the chain never
    goes back from a key to an earlier one, which is what makes a rotation seal what came before
    it (docs/operations.md, "Rotating the audit key")."""
    variable = "CROSSLINE_AUDIT_KEY"
    if ":" not in value:
        return {"a1": _b64(value.strip(), variable)}
    expected = "a base64 key or a1:base64[,a2:base64…]"
    ring = _ring(value, variable, expected, lambda key_id: bool(AUDIT_KEY_ID.fullmatch(key_id)))
    for key_id, key in ring.items():
        if len(key) < 32:
            raise ConfigError(f"{variable}: key {key_id} must be at least 32 bytes")
    return ring


def audit_key_rank(key_id: str | None) -> int:
    """The order of audit keys: a1 < a2 < …; an entry written before keys had ids is 0, and so
    is a value that is not a key id (only an edit of the table makes one: `verify` names it)."""
    found = AUDIT_KEY_ID.fullmatch(key_id or "")
    return int(found.group(1)) if found else 0


def _b64(value: str, variable: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigError(f"{variable}: not valid base64") from None
