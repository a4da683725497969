"""One clinician's process in the claim race (tests/clinic/test_claim_race.py).

    python -m tests.clinic.claim_worker one|next USERNAME START_FILE [CASE_PUBLIC_ID]

Connects to the database named by DATABASE_URL, prints "ready", waits for START_FILE to appear
(every process is released at the same moment), then claims — one given case, or "claim next"
until no open case is left — and prints one JSON line: the case ids it won and why it stopped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(mode: str, username: str, start_file: str, case_id: str = "") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from crossline.clinic import claims

    user = User.objects.get(username=username)
    connection.ensure_connection()
    print("ready", flush=True)
    start = Path(start_file)
    while not start.exists():
        time.sleep(0.001)
    won: list[str] = []
    if mode == "one":
        outcome = claims.claim(case_id, user)  # type: ignore[arg-type]
        won += [case_id] if outcome.won else []
        reason = outcome.reason
    else:
        while (outcome := claims.claim_next(user)).won:
            assert outcome.case is not None
            won.append(str(outcome.case.public_id))
        reason = outcome.reason
    print(json.dumps({"user": username, "won": won, "reason": reason}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
