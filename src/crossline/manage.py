"""Django's management entry point, reached through `crossline manage …`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def run(argv: Sequence[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crossline.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["crossline", *argv])


if __name__ == "__main__":  # pragma: no cover
    run(sys.argv[1:])
