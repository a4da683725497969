"""Text messages (course reminders) through a pluggable sender.

A sender is any class with `send(to: str, body: str) -> None`, named by the configuration value
`sms_backend` (`CROSSLINE_SMS_BACKEND`): "disabled" (the default — no phone number is read at
all), "console" (development: logs that a message was queued, with the number masked and
nothing else), or a dotted path to a class (a real provider; docs/operations.md). A sender
raises on failure; the caller logs the failure without the number or the text.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, to: str, body: str) -> None: ...


class DisabledSender:
    """No text messages: the reminders go by e-mail only."""

    enabled = False

    def send(self, to: str, body: str) -> None:
        return None


class ConsoleSender:
    """Development: logs "sms queued to ***0147" — never the number, never the text."""

    enabled = True

    def send(self, to: str, body: str) -> None:
        logger.info("sms queued to %s (%d characters)", mask(to), len(body))


ALIASES = {"disabled": DisabledSender, "console": ConsoleSender, "log": ConsoleSender}


def mask(number: str) -> str:
    """ "***0147": the last four digits only."""
    digits = "".join(c for c in number if c.isdigit())
    return "***" + digits[-4:]


def sender(name: str | None = None) -> Sender:
    """The configured sender (a fresh instance)."""
    name = name or str(getattr(settings.CROSSLINE, "sms_backend", "disabled"))
    cls: Any = ALIASES.get(name) or import_string(name)
    made: Sender = cls()
    return made


def enabled(s: Sender) -> bool:
    return bool(getattr(s, "enabled", True))
