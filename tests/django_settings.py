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

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # One test database per run, not Django's shared `test_<name>`: a second run on the same
    # server (a developer's beside CI's) would otherwise drop the first one's tables mid-run.
    # The name carries this machine and this process; `tests/conftest.py` drops the databases
    # of this machine's runs that were killed before they could drop their own.
    import hashlib
    import socket

    HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
    TEST_DATABASE_PREFIX = f"test_{DATABASES['default']['NAME']}_{HOST_TAG}_"  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"{TEST_DATABASE_PREFIX}{os.getpid()}"}  # noqa: F405
