"""Every `crossline manage COMMAND --option` that docs/operations.md tells an operator to run
names a command this installation has, with options that command accepts: the runbook cannot
drift from the code (a renamed command or option fails here, not at 3 a.m.)."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands, load_command_class

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
# A command name, then its options up to the end of the line or a comment / closing backtick.
USE = re.compile(r"crossline manage\s+(\w+)([^`#\n]*)")


def uses() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, rest in USE.findall(OPERATIONS.read_text()):
        found.setdefault(name, set()).update(re.findall(r"(--[a-z][a-z-]*)", rest))
    return found


def test_every_documented_manage_command_and_option_exists() -> None:
    documented = uses()
    assert {"purge_anonymous", "prune_db_task_results", "axes_reset_logs"} <= set(documented)
    commands = get_commands()
    for name, options in documented.items():
        assert name in commands, f"docs/operations.md names `crossline manage {name}`"
        parser = load_command_class(commands[name], name).create_parser("crossline", name)
        known = {o for action in parser._actions for o in action.option_strings}
        assert options <= known, f"`crossline manage {name}`: {sorted(options - known)}"


def test_the_configuration_table_lists_every_variable_crossline_reads() -> None:
    """An operator sets up production from the table: a variable the code reads but the table
    leaves out (the mail relay, the anchor file) is one they never learn to set."""
    src = OPERATIONS.parents[1] / "src" / "crossline"
    read = {
        name
        for path in src.rglob("*.py")
        for name in re.findall(r"\"(CROSSLINE_[A-Z_]+)\"", path.read_text())
    }
    section = OPERATIONS.read_text().split("### Configuration", 1)[1].split("\n### ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {name for first in rows for name in re.findall(r"`(CROSSLINE_[A-Z_]+)`", first)}
    assert "CROSSLINE_PRODUCTION" in listed
    assert read - listed == set(), "add them to docs/operations.md, Configuration"
    assert listed - read == set(), "the table names variables crossline does not read"
