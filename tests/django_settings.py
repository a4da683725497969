"""Settings for the test run: crossline's own settings with data in a throw-away directory.

DATABASE_URL chooses the database (SQLite by default; the Makefile runs the database tests a
second time with PostgreSQL).
"""

import os
import tempfile

os.environ.setdefault("CROSSLINE_DATA_DIR", tempfile.mkdtemp(prefix="crossline-test-"))
os.environ.setdefault("CROSSLINE_BASE_URL", "http://testserver")

from crossline.settings import *  # noqa: F403

ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; prod uses Argon2
# A test-only app: its `flush` lifts the audit log's append-only triggers between tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testing_app"]  # noqa: F405
