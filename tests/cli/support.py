"""Run the installed `crossline` command as a real subprocess, and the personas the tests use.

Expected wording is read from the packaged knowledge base (product copy changes through review);
the crisis number 988 is written out, because it must never silently change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from crossline.engine import assess
from crossline.knowledge import DIRECTORY, load

KNOWLEDGE = load()
EXIT_INVALID = 2
# UTF-8 whatever the CI locale, so Spanish text and accents round-trip.
_ENV = {**os.environ, "PYTHONUTF8": "1"}


def _command() -> list[str]:
    installed = shutil.which("crossline", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "crossline.cli"]


COMMAND = _command()


def crossline(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`crossline ARGS…` with `stdin` typed in; stdout and stderr captured as text."""
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_ENV,
        timeout=60,
        check=False,
    )


def write_request(tmp_path: Path, answers: dict[str, Any], language: str | None = None) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request(answers, language)), encoding="utf-8")
    return path


def request(answers: dict[str, Any], language: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"answers": answers}
    if language is not None:
        body["language"] = language
    return body


def expected_decision(body: dict[str, Any]) -> dict[str, Any]:
    """What the engine decides in-process, as the JSON the CLI should print."""
    decision: dict[str, Any] = json.loads(json.dumps(assess(KNOWLEDGE, body).to_dict()))
    return decision


def copy_knowledge(tmp_path: Path) -> Path:
    """A private copy of the packaged knowledge files (*.toml and instruments/)."""
    target = tmp_path / "knowledge"
    target.mkdir()
    for path in DIRECTORY.glob("*.toml"):
        shutil.copy(path, target / path.name)
    shutil.copytree(DIRECTORY / "instruments", target / "instruments")
    return target


def edit_key_in_table(path: Path, table: str, key: str, new_line: str | None) -> None:
    """Replace (or, with None, delete) the `key = …` line of one TOML table, in place."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(f"[{table}]\n")
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("["):
            break
        if re.match(rf"{re.escape(key)}\s*=", lines[i]):
            lines[i : i + 1] = [] if new_line is None else [new_line + "\n"]
            path.write_text("".join(lines), encoding="utf-8")
            return
    raise AssertionError(f"no {key} in [{table}] of {path.name}")


def outcome_title(outcome: str, language: str = "en") -> str:
    return str(KNOWLEDGE.copy["outcomes"][outcome]["title"][language])


def eligibility_title(eligibility: str, language: str = "en") -> str:
    return str(KNOWLEDGE.copy["eligibility"][eligibility]["title"][language])


def item_text(item_id: str, language: str = "en") -> str:
    return str(KNOWLEDGE.items[item_id].text[language])


# --- personas -------------------------------------------------------------------------------

# An adult in Florida with few symptoms: the short path (PHQ-2 below the gate), not indicated.
FEW_SYMPTOMS = {
    "phq9.1": 0,
    "phq9.2": 1,
    "phq9.9": 0,
    "burnout.single": 2,
    "gad7.1": 0,
    "gad7.2": 0,
    "profile.state": "fl",
    "profile.age": 34,
}

# A burned-out adult in New Jersey whose depression screen is positive, on a benzodiazepine,
# two failed antidepressant trials: a candidate with review flags.
DEPRESSED_CANDIDATE = {
    "phq9.1": 2,
    "phq9.2": 3,
    "phq9.9": 0,
    "phq9.3": 2,
    "phq9.4": 2,
    "phq9.5": 1,
    "burnout.single": 3,
    "asq.1": "no",
    "asq.2": "no",
    "asq.3": "no",
    "asq.4": "no",
    "gad7.1": 1,
    "gad7.2": 2,
    "profile.state": "NJ",
    "profile.age": 41,
    **{f"medical.{c}": "no" for c in KNOWLEDGE.conditions},
    "medications": ["Xanax 0.5 mg"],
    "history.antidepressant_trials": 2,
}

# Item 9 above "not at all" with no thoughts of suicide right now: non-acute, resources shown.
ITEM9_NON_ACUTE = {
    "phq9.1": 1,
    "phq9.2": 0,
    "phq9.9": 1,
    "asq.1": "no",
    "asq.2": "no",
    "asq.3": "no",
    "asq.4": "no",
    "asq.5": "no",
    "burnout.single": 2,
    "gad7.1": 0,
    "gad7.2": 0,
    "profile.state": "FL",
    "profile.age": 29,
}
