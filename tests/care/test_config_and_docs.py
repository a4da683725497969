"""The webhook's configuration is checked at start-up, and the receiver code documented in
docs/operations.md verifies a real delivery (the documentation cannot drift from the code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crossline.config import ConfigError, from_environment

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
URL = "https://pager.example/hook"


def test_a_webhook_url_without_a_secret_stops_start_up(tmp_path: Path) -> None:
    env = {"CROSSLINE_DATA_DIR": str(tmp_path), "CROSSLINE_ALERT_WEBHOOK_URL": URL}
    with pytest.raises(ConfigError, match="CROSSLINE_ALERT_WEBHOOK_SECRET is not set"):
        from_environment(env)
    with pytest.raises(ConfigError, match="CROSSLINE_ALERT_WEBHOOK_SECRET looks like"):
        from_environment({**env, "CROSSLINE_ALERT_WEBHOOK_SECRET": "change-me"})
    config = from_environment({**env, "CROSSLINE_ALERT_WEBHOOK_SECRET": "q" * 8 + "Zx81kLp0" * 4})
    assert config.alert_webhook_secret.startswith(b"qqqq")
    assert "qqqq" not in repr(config)


def test_the_anchor_interval_must_be_a_positive_number(tmp_path: Path) -> None:
    env = {"CROSSLINE_DATA_DIR": str(tmp_path)}
    assert from_environment(env).anchor_every_minutes == 15
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(ConfigError, match="CROSSLINE_AUDIT_ANCHOR_EVERY_MINUTES"):
            from_environment({**env, "CROSSLINE_AUDIT_ANCHOR_EVERY_MINUTES": bad})


def documented_receiver() -> Any:
    text = DOCS.read_text()
    section = text.split("### Alert webhook", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    return namespace["trusted"]


@pytest.mark.django_db
def test_the_documented_receiver_trusts_a_real_delivery_and_nothing_else(
    webhook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from crossline.care import notify
    from crossline.care.models import Notification
    from tests.care.support import ACUTE, contact_me, submitted

    assessment, _ = submitted(ACUTE)
    contact_me(assessment)
    note = Notification.objects.get(channel="webhook")
    assert notify.deliver(note.pk, note.created_at) == "sent"
    (received,) = webhook.requests
    trusted = documented_receiver()
    assert trusted(webhook.secret, received.headers, received.body)
    assert not trusted(b"x" * 32, received.headers, received.body)
    assert not trusted(webhook.secret, received.headers, received.body.replace(b"acute", b"none"))
    stale = {**received.headers, "X-Crossline-Timestamp": "1000000000"}
    assert not trusted(webhook.secret, stale, received.body)
