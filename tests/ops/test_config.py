"""Configuration is read once, at the edge, with loud errors (STYLE.md §8): in production mode
(`CROSSLINE_PRODUCTION=1`) every key comes from the environment, and a missing or placeholder key
stops start-up with a message naming the variable — for every command that starts the app."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crossline.config import (
    KEY_VARIABLES,
    ConfigError,
    from_environment,
    looks_like_placeholder,
    parse_key_ring,
)
from web_server import base_env, run_crossline

PLACEHOLDER = "change-me-change-me-change-me-change-me"


def _material(name: str) -> str:
    return base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


def production_keys() -> dict[str, str]:
    """Keys an operator would generate (deterministic here, so the tests are)."""
    return {
        "CROSSLINE_SECRET_KEY": _material("secret") + _material("secret2"),
        "CROSSLINE_ENCRYPTION_KEYS": f"k2:{_material('enc2')},k1:{_material('enc1')}",
        "CROSSLINE_INDEX_KEY": _material("index"),
        "CROSSLINE_AUDIT_KEY": _material("audit"),
    }


def production_env(**overrides: str) -> dict[str, str]:
    return {"CROSSLINE_PRODUCTION": "1", **production_keys(), **overrides}


# --- the rules, in-process ---------------------------------------------------------------------


@pytest.mark.parametrize("variable", KEY_VARIABLES.values())
def test_production_mode_names_a_missing_key(variable: str, tmp_path: Path) -> None:
    env = production_env(CROSSLINE_DATA_DIR=str(tmp_path))
    del env[variable]
    with pytest.raises(ConfigError, match=f"{variable} is not set"):
        from_environment(env)


@pytest.mark.parametrize("variable", KEY_VARIABLES.values())
@pytest.mark.parametrize(
    "value", [PLACEHOLDER, "k1:" + PLACEHOLDER, "TODO: paste the key here 0123456789", "a" * 44]
)
def test_production_mode_refuses_a_placeholder_key(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{variable} looks like a placeholder") as raised:
        from_environment(production_env(**{variable: value}))
    assert value not in str(raised.value)  # secrets never print, not even bad ones


def test_production_mode_takes_every_key_from_the_environment(tmp_path: Path) -> None:
    config = from_environment(production_env(CROSSLINE_DATA_DIR=str(tmp_path / "var")))
    assert config.production and config.active_key_id == "k2"
    assert list(config.encryption_keys) == ["k2", "k1"]  # rotation: the first key encrypts
    assert not (tmp_path / "var").exists()  # no key file written in production
    assert _material("secret") not in repr(config)


def test_a_random_key_containing_xxx_is_not_a_placeholder() -> None:
    # Random base64 has "xxx" in about one key in 500; refusing it would be a bug.
    assert not looks_like_placeholder("k1:Q2xXxa9fPq0Zk3b8Yt1Ws5Nn7Rr2Uu4Vv6Ee8Gg0Hh=")
    assert not looks_like_placeholder("Todoq8Zr1mVb3kPw9sLx0cNf4hJt6yUe2aGd5iKo7nMq")


# --- every command that starts the app, as a subprocess ----------------------------------------


@pytest.mark.parametrize("command", ["serve", "migrate", "check"])
@pytest.mark.parametrize(
    ("variable", "value"),
    [("CROSSLINE_ENCRYPTION_KEYS", None), ("CROSSLINE_AUDIT_KEY", PLACEHOLDER)],
    ids=["missing", "placeholder"],
)
def test_production_start_up_stops_with_a_message_naming_the_variable(
    command: str, variable: str, value: str | None, data_dir: Path
) -> None:
    env = base_env(data_dir, **production_env())
    if value is None:
        del env[variable]
    else:
        env[variable] = value
    done = run_crossline(command, env=env)
    assert done.returncode != 0
    assert variable in done.stderr
    assert done.stderr.startswith("crossline: configuration: ")
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    if value:
        assert value not in done.stderr
    assert not data_dir.exists()  # stopped before touching anything


# --- HSTS only when served over TLS ------------------------------------------------------------

HSTS_PROBE = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.test import Client
    host = "screen.crossline.test"
    r = Client(HTTP_HOST=host).get("/crisis/", headers={"X-Forwarded-Proto": "https"})
    print("PROBE " + json.dumps({"status": r.status_code,
                                 "hsts": r.headers.get("Strict-Transport-Security")}))
    """
)


def _hsts(base_url: str, data_dir: Path) -> dict[str, object]:
    env = base_env(
        data_dir,
        **production_env(),
        CROSSLINE_BASE_URL=base_url,
        CROSSLINE_ALLOWED_HOSTS="screen.crossline.test",
        DJANGO_SETTINGS_MODULE="crossline.settings",
    )
    done = subprocess.run(
        [sys.executable, "-c", HSTS_PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE "))
    result: dict[str, object] = json.loads(line.removeprefix("PROBE "))
    return result


def test_hsts_is_sent_when_the_base_url_is_https(data_dir: Path) -> None:
    probe = _hsts("https://screen.crossline.test", data_dir)
    assert probe["status"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_when_the_base_url_is_plain_http(data_dir: Path) -> None:
    probe = _hsts("http://screen.crossline.test", data_dir)
    assert probe == {"status": 200, "hsts": None}


# --- DATABASE_URL ------------------------------------------------------------------------------


def test_database_url_postgres_with_credentials_and_libpq_options() -> None:
    from crossline.settings import _database

    db = _database("postgres://crossline:p%40ss@db.internal:6432/screens?sslmode=verify-full")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("screens", "crossline", "p@ss")
    assert (db["HOST"], db["PORT"]) == ("db.internal", "6432")
    assert db["OPTIONS"] == {
        "sslmode": "verify-full",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }


def test_database_url_postgres_prepared_statements_can_be_turned_off_for_a_pooler() -> None:
    from crossline.settings import _database

    db = _database("postgres://db.internal/screens?prepare_threshold=off&server_side_binding=off")
    assert db["OPTIONS"] == {"server_side_binding": False, "prepare_threshold": None}
    assert _database("postgres://h/s?prepare_threshold=0")["OPTIONS"]["prepare_threshold"] == 0
    with pytest.raises(ConfigError, match="prepare_threshold must be a whole number or off"):
        _database("postgres://h/s?prepare_threshold=often")


def test_database_url_sqlite_absolute_path(tmp_path: Path) -> None:
    from crossline.settings import _database

    db = _database(f"sqlite:///{tmp_path}/data/crossline.sqlite3")
    assert db["NAME"] == f"{tmp_path}/data/crossline.sqlite3"
    assert (tmp_path / "data").is_dir()  # created, so the first start needs no mkdir


def test_database_url_with_an_unknown_scheme_is_refused() -> None:
    from crossline.settings import _database

    with pytest.raises(ConfigError, match="DATABASE_URL: unsupported scheme 'mysql'"):
        _database("mysql://localhost/crossline")


def test_the_clinic_time_zone_is_utc_unless_set_and_a_wrong_name_is_refused(
    tmp_path: Path,
) -> None:
    env = {"CROSSLINE_DATA_DIR": str(tmp_path)}
    assert from_environment(env).time_zone == "UTC"
    chosen = from_environment({**env, "CROSSLINE_TIME_ZONE": "America/New_York"})
    assert chosen.time_zone == "America/New_York"
    with pytest.raises(ConfigError, match="CROSSLINE_TIME_ZONE: 'Eastern' is not a time zone"):
        from_environment({**env, "CROSSLINE_TIME_ZONE": "Eastern"})


def test_a_key_id_listed_twice_in_the_encryption_ring_stops_start_up() -> None:
    """It would silently replace the key before it (and with it, what that key encrypted)."""
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    with pytest.raises(ConfigError, match="CROSSLINE_ENCRYPTION_KEYS: key k1 is listed twice"):
        parse_key_ring(f"k1:{key},k1:{key}", "CROSSLINE_ENCRYPTION_KEYS")


def test_a_key_id_too_long_for_the_ciphertext_stops_start_up() -> None:
    """The ciphertext stores the key id's length in one byte: a longer id would pass start-up
    and then fail every encrypted write."""
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    assert parse_key_ring(f"{'k' * 255}:{key}", "CROSSLINE_ENCRYPTION_KEYS")
    with pytest.raises(ConfigError, match="longer than 255 bytes"):
        parse_key_ring(f"{'k' * 256}:{key}", "CROSSLINE_ENCRYPTION_KEYS")


# --- numbers: a clear message naming the variable, never a traceback ---------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CROSSLINE_RATE_LIMIT_PER_MINUTE", "thirty"),
        ("CROSSLINE_RATE_LIMIT_PER_MINUTE", "0"),  # would refuse every submission
        ("CROSSLINE_TRUSTED_PROXIES", "one"),
        ("CROSSLINE_TRUSTED_PROXIES", "-1"),
        ("CROSSLINE_SMTP_PORT", "smtp"),
        ("CROSSLINE_SMTP_PORT", "70000"),
    ],
)
def test_a_bad_number_stops_start_up_naming_the_variable(
    variable: str, value: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=f"{variable}: must be a whole number") as raised:
        from_environment({"CROSSLINE_DATA_DIR": str(tmp_path), variable: value})
    assert repr(value) in str(raised.value)


def test_the_numbers_have_their_documented_defaults(tmp_path: Path) -> None:
    config = from_environment({"CROSSLINE_DATA_DIR": str(tmp_path)})
    assert (config.rate_limit_per_minute, config.trusted_proxies, config.smtp_port) == (30, 0, 25)
    chosen = from_environment(
        {
            "CROSSLINE_DATA_DIR": str(tmp_path),
            "CROSSLINE_RATE_LIMIT_PER_MINUTE": "1000000",
            "CROSSLINE_TRUSTED_PROXIES": "2",
            "CROSSLINE_SMTP_PORT": "587",
        }
    )
    assert (chosen.rate_limit_per_minute, chosen.trusted_proxies, chosen.smtp_port) == (
        1000000,
        2,
        587,
    )


def test_serve_with_a_bad_number_exits_2_naming_it(data_dir: Path) -> None:
    done = run_crossline("serve", env=base_env(data_dir, CROSSLINE_TRUSTED_PROXIES="one"))
    assert done.returncode == 2
    assert done.stderr.startswith("crossline: configuration: CROSSLINE_TRUSTED_PROXIES")
    assert "Traceback" not in done.stderr


def test_in_production_the_data_directory_crossline_creates_is_its_owners_alone(
    data_dir: Path,
) -> None:
    """No key file there, but the SQLite database (when DATABASE_URL is not set) and the audit
    anchor file are: mode 700, as in the embedded setup."""
    done = run_crossline("check", env=base_env(data_dir, **production_env()))
    assert done.returncode == 0, done.stderr
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (data_dir / "crossline.sqlite3").exists()
    assert not (data_dir / "keys.toml").exists()


def test_the_deployment_checks_warn_only_about_what_the_proxy_and_the_operator_decide(
    data_dir: Path,
) -> None:
    """docs/operations.md lists the warnings `crossline check` gives a production setup: the
    HTTPS redirect (the proxy's) and HSTS preloading (the operator's choice). A false one —
    Django's CSRF middleware looked for by name, where crossline runs a subclass of it — would
    teach operators to skip the list."""
    from django.conf import settings
    from django.middleware.csrf import CsrfViewMiddleware
    from django.utils.module_loading import import_string

    csrf = [m for m in settings.MIDDLEWARE if issubclass(import_string(m), CsrfViewMiddleware)]
    assert csrf == ["crossline.web.CsrfMiddleware"]
    env = base_env(data_dir, **production_env(CROSSLINE_BASE_URL="https://screen.crossline.test"))
    done = run_crossline("check", env=env)
    assert done.returncode == 0, done.stderr
    assert set(re.findall(r"\((security\.W\d+)\)", done.stderr)) == {
        "security.W008",
        "security.W021",
    }
