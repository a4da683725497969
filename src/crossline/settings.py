"""Django settings: everything comes from `crossline.config.from_environment()`, read once."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from crossline.config import Config, ConfigError, from_environment

CONFIG: Config = from_environment()
BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = [CONFIG.base_url]
CSRF_FAILURE_VIEW = "crossline.web.csrf_failure"  # a site page with the crisis line

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "crossline.intake",
    "crossline.api",
    "crossline.audit",
    "crossline.accounts",
    "crossline.program",
    "crossline.clinic",
    "crossline.evaluation",
    "crossline.care",
    "crossline.visits",
    "crossline.course",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crossline.audit.middleware.RequestIdMiddleware",  # first: every audit event has the id
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crossline.web.RequestLimitsMiddleware",
    "crossline.middleware.SessionMiddleware",  # these four and CSRF skip /api/
    "django.middleware.locale.LocaleMiddleware",
    # Inside the locale (a 405 page in the person's language); /api/, /fhir/, /cds-services
    # refusals in their own formats.
    "crossline.web.RefusalFormatsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "crossline.web.CsrfMiddleware",
    "crossline.middleware.AuthenticationMiddleware",
    "crossline.middleware.OTPMiddleware",
    "crossline.middleware.MessageMiddleware",
    "crossline.accounts.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "crossline.web.PrivacyHeadersMiddleware",
    # Last, as django-axes requires: it sees failed sign-ins after every other middleware.
    "axes.middleware.AxesMiddleware",
]

# `check --deploy` looks for Django's CSRF middleware by name; crossline's subclass of it
# (crossline.web.CsrfMiddleware) is in MIDDLEWARE, so the warning would be false on every deploy.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

ROOT_URLCONF = "crossline.urls"
WSGI_APPLICATION = "crossline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crossline.accounts.context.staff",
                "crossline.web.crisis_context",
            ],
        },
    }
]


def _database(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path (the dj-database-url convention)
        path = unquote(url.removeprefix("sqlite://").removeprefix("/"))
        # Only its owner may list or open the database's directory (docs/operations.md).
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return {
            "ENGINE": "crossline.sqlite",
            "NAME": path,
            # Health records: WAL, fsync every commit, foreign keys enforced; writers queue.
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                    " PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
            # Each worker keeps its connection: no reopening and no PRAGMAs on every request.
            "CONN_MAX_AGE": 600,
            "TEST": {"NAME": None},
        }
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # libpq parameters from the query string: ?sslmode=verify-full&sslrootcert=…
            "OPTIONS": _postgres_options(parts.query),
        }
    raise ConfigError(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (sqlite or postgres)")


def _postgres_options(query: str) -> dict[str, object]:
    """libpq parameters from the query string (?sslmode=verify-full&sslrootcert=…), and
    psycopg's server-side parameters with statements prepared after five uses: a submission's
    encrypted row then travels as one binary parameter instead of a hex literal PostgreSQL must
    parse, and the hot statements are planned once per connection (docs/decisions/0007).
    Behind a transaction-pooling PgBouncer older than 1.21: `?prepare_threshold=off`."""
    options: dict[str, object] = {"server_side_binding": True, "prepare_threshold": 5}
    for name, value in parse_qsl(query):
        if name == "prepare_threshold":
            options[name] = None if value == "off" else _whole(name, value)
        elif name == "server_side_binding":
            options[name] = value != "off"
        else:
            options[name] = value
    return options


def _whole(name: str, value: str) -> int:
    if not value.isdigit():
        raise ConfigError(f"DATABASE_URL: {name} must be a whole number or off, not {value!r}")
    return int(value)


DATABASES = {"default": _database(CONFIG.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache every worker process shares (the database's), so nothing a library caches differs
# between processes. crossline itself caches nothing there: rate-limit counts are their own
# table (crossline.api.models.RateCounter), which is never culled.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "crossline_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.base_url.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = 31536000 if SESSION_COOKIE_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CONFIG.production else None
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # no assessment comes near this
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]  # Argon2id
# NIST SP 800-63B: at least 8 characters, at least 64 allowed, common passwords blocked,
# no composition rules. Django's CommonPasswordValidator ships a list of 20,000.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "crossline.accounts.passwords.MaximumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses while an account is locked out
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/clinic/sign-in/"
# Not where sign-in lands: that is the first page the user's roles open (accounts.context.home_for;
# the queue refuses an operator-only account). Kept for Django's own views, none of them routed.
LOGIN_REDIRECT_URL = "/clinic/"
OTP_VERIFY_URL = "/clinic/verify/"  # the second step of sign-in (or enrolment)

# Sign-in lockout (django-axes): 5 failures lock the account + address pair for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_VERBOSE = False

# Clinician sessions: 30 minutes idle, 12 hours at most (crossline.accounts.middleware).
SESSION_IDLE_SECONDS = 30 * 60
# How often an open alerts list asks whether the open alerts changed (care/static/care/alerts.js).
CROSSLINE_ALERTS_POLL_SECONDS = 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
OTP_TOTP_ISSUER = "crossline"

# Background jobs: the Django tasks API (django-tasks backport), stored in the database and run
# by `crossline worker` (django-tasks-db's db_worker).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = CONFIG.smtp_host
EMAIL_PORT = CONFIG.smtp_port
DEFAULT_FROM_EMAIL = CONFIG.mail_from

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = CONFIG.time_zone  # what staff pages show; the database keeps UTC

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.data_dir / "static"
CONFIG.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # as the key file's is
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True  # static files served without a collectstatic step
WHITENOISE_AUTOREFRESH = DEBUG

# Application logs never carry patient data: no request bodies, no answers; tokens are hashed.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Django puts the request path in error records; a result link's path is a credential.
    "filters": {
        "redact": {"()": "crossline.web.RedactingFilter"},
        "one_line": {"()": "crossline.web.WithoutTraceback"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # django-axes logs every sign-in with the typed user name (which may be a password typed
        # in the wrong box) and the client address; the audit log records sign-ins instead.
        "axes": {"level": "ERROR"},
        "django.security.DisallowedHost": {"filters": ["one_line"]},
    },
}

CROSSLINE = CONFIG
