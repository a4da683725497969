"""The web flow's use of the engine: which screen is next, what a form posted, progress."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from crossline.engine import InvalidInput, evaluate, parse_answers, remaining_at_most, walk
from crossline.engine.contract import MAX_MEDICATION_LENGTH, MAX_MEDICATIONS
from crossline.engine.errors import FieldError
from crossline.engine.flow import Step
from crossline.engine.instruments import safety_level, shows_risk
from crossline.engine.knowledge import Knowledge

CHECKLIST = "medical"
MEDICATIONS = "medications"
NONE_OF_THE_OTHERS = "none_of_the_others"
NO_MEDICATIONS = "no_medications"
# A list typed on one line is split at its commas, but not at a thousands separator
# ("fish oil 1,000 mg" is one medicine).
_LIST_COMMA = re.compile(r"(?<!\d),|,(?!\d)")


def screen_id(step: Step) -> str:
    """The URL id of a screen: the item id, or "medical" / "medications"."""
    if step.kind == "checklist":
        return CHECKLIST
    return step.ids[0]


@dataclass(frozen=True)
class FlowState:
    asked: tuple[str, ...]  # answer ids the flow asked and has answers for
    screens: tuple[str, ...]  # screen ids answered, in order (for Back)
    next: Step | None
    at_risk: bool  # crisis resources stay on every screen from now on
    acute: bool  # the assessment ends on the safety screen
    answered_steps: int
    remaining_steps: int

    @property
    def done(self) -> bool:
        return self.next is None or self.acute

    @property
    def percent(self) -> int:
        total = self.answered_steps + self.remaining_steps
        return 100 if total == 0 else round(100 * self.answered_steps / total)


def state_of(k: Knowledge, answers: Mapping[str, Any]) -> FlowState:
    w = walk(k, answers)
    known = {i: answers[i] for i in w.asked}
    remaining, _ = remaining_at_most(k, answers)
    screens: list[str] = []
    for i in w.asked:
        sid = CHECKLIST if i.startswith("medical.") else i
        if sid not in screens:
            screens.append(sid)
    acute = safety_level(known) == "acute" and "asq.5" in known
    return FlowState(
        asked=w.asked,
        screens=tuple(screens),
        next=w.next,
        at_risk=shows_risk(known),
        acute=acute,
        answered_steps=w.steps_answered,
        remaining_steps=remaining,
    )


def asked_answers(k: Knowledge, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers the flow asked — the decision is made from these alone (items_asked)."""
    return {i: answers[i] for i in walk(k, answers).asked}


def decide(k: Knowledge, answers: Mapping[str, Any], language: str) -> dict[str, Any]:
    return evaluate(k, asked_answers(k, answers), language).to_dict()


def parse_screen(k: Knowledge, screen: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """A posted form for one screen → validated answers (InvalidInput names the field)."""
    if screen == CHECKLIST:
        return _parse_checklist(k, form)
    if screen == MEDICATIONS:
        return _parse_medications(k, form)
    item = k.items.get(screen)
    if item is None:
        raise InvalidInput([FieldError(screen, _("This question is not part of the check."))])
    raw = form.get(screen, "")
    if not isinstance(raw, str) or not raw.strip():
        typed = item.input == "integer"
        message = _("Please enter a whole number.") if typed else _("Please choose an answer.")
        raise InvalidInput([FieldError(screen, message)])
    value: Any = raw.strip()
    numeric = item.input == "integer" or any(isinstance(v, int) for v in item.values)
    if numeric:
        if not (value.isascii() and value.lstrip("-").isdigit()):
            raise InvalidInput([FieldError(screen, _("Please enter a whole number."))])
        value = int(value)
        if item.int_range and not item.int_range[0] <= value <= item.int_range[1]:
            lo, hi = item.int_range
            message = _("Please enter a whole number from %(lo)s to %(hi)s.") % {"lo": lo, "hi": hi}
            raise InvalidInput([FieldError(screen, message)])
    return parse_answers(k, {screen: value})


def _parse_checklist(k: Knowledge, form: Mapping[str, Any]) -> dict[str, Any]:
    """Only an explicit "none of the others" turns unticked lines into "no" (PRODUCT.md)."""
    picked: dict[str, str] = {}
    for cid in k.conditions:
        key = f"medical.{cid}"
        value = form.get(key, "")
        if value in ("yes", "unsure"):
            picked[key] = value
        elif value not in ("", "no"):
            raise InvalidInput([FieldError(key, _("Choose yes, not sure, or leave it blank."))])
    if form.get(NONE_OF_THE_OTHERS) != "1":
        raise InvalidInput(
            [
                FieldError(
                    NONE_OF_THE_OTHERS,
                    _("Please confirm that none of the other conditions apply to you."),
                )
            ]
        )
    answers = {f"medical.{cid}": picked.get(f"medical.{cid}", "no") for cid in k.conditions}
    return parse_answers(k, answers)


def _parse_medications(k: Knowledge, form: Mapping[str, Any]) -> dict[str, Any]:
    text = form.get(MEDICATIONS, "")
    lines = str(text).splitlines()
    names = [n.strip() for line in lines for n in _LIST_COMMA.split(line) if n.strip()]
    if not names and form.get(NO_MEDICATIONS) != "1":
        raise InvalidInput(
            [
                FieldError(
                    MEDICATIONS,
                    _("List your medicines, or tick “I take no medicines or supplements”."),
                )
            ]
        )
    if names and form.get(NO_MEDICATIONS) == "1":
        raise InvalidInput(
            [
                FieldError(
                    MEDICATIONS,
                    _("You listed medicines and ticked that you take none. Please choose one."),
                )
            ]
        )
    if len(names) > MAX_MEDICATIONS:
        message = _("Please list at most %(n)s medicines.") % {"n": MAX_MEDICATIONS}
        raise InvalidInput([FieldError(MEDICATIONS, message)])
    long = [n for n in names if len(n) > MAX_MEDICATION_LENGTH]
    if long:
        message = _(
            "A medicine name can be at most %(n)s characters. Please shorten the one that starts "
            "“%(start)s…”."
        ) % {"n": MAX_MEDICATION_LENGTH, "start": long[0][:30]}
        raise InvalidInput([FieldError(MEDICATIONS, message)])
    return parse_answers(k, {MEDICATIONS: names})
