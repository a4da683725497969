"""The pure course rules (crossline.engine.course): session states, scheduling, the course's
pauses and suspensions, dispensing flags, the weekly schedule — table-driven, plus properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine import course as rules
from crossline.engine.errors import KnowledgeError
from crossline.knowledge import load

K = load()
P = rules.course_policy(K)
EVENTS = [
    ("pre", "proceed"),
    ("pre", "hold"),
    ("post", ""),
    ("done", ""),
    ("clear", ""),
    ("cancel", ""),
    ("miss", ""),
]


def test_policy_values_come_from_the_knowledge_release() -> None:
    assert P.sessions_before_reevaluation == 6
    assert (P.fasting_food_hours, P.fasting_liquid_minutes) == (2, 30)
    assert (P.weekly_every_days, P.bladder_every_days) == (7, 28)


def test_a_malformed_policy_table_is_a_knowledge_error() -> None:
    broken = dict(K.docs["policy.toml"])
    broken["course"] = {**broken["course"], "weekly_every_days": 0}
    k = replace(K, docs={**K.docs, "policy.toml": broken})
    with pytest.raises(KnowledgeError, match="weekly_every_days"):
        rules.course_policy(k)


@pytest.mark.parametrize(
    ("state", "event", "outcome", "after"),
    [
        ("scheduled", "pre", "proceed", "ready"),
        ("scheduled", "pre", "hold", "held"),
        ("ready", "post", "", "done"),
        ("ready", "done", "", "done"),
        ("held", "clear", "", "ready"),
        ("held", "cancel", "", "cancelled"),
        ("scheduled", "miss", "", "missed"),
        ("ready", "miss", "", "missed"),
    ],
)
def test_allowed_transitions(state: str, event: str, outcome: str, after: str) -> None:
    assert rules.session_after(state, event, outcome) == after


@pytest.mark.parametrize(
    ("state", "event", "message"),
    [
        ("held", "post", "clinician must clear"),
        ("held", "done", "clinician must clear"),
        ("held", "pre", "clinician must clear"),
        ("held", "miss", "clear or cancel"),
        ("scheduled", "post", "pre-session check-in comes first"),
        ("ready", "pre", "in already"),
        ("scheduled", "clear", "only a held session"),
        ("done", "cancel", "done already"),
        ("scheduled", "dance", "unknown event"),
    ],
)
def test_refused_transitions(state: str, event: str, message: str) -> None:
    with pytest.raises(rules.CourseRuleError, match=message):
        rules.session_after(state, event)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(EVENTS), max_size=12))
def test_a_held_session_is_never_done_without_a_clinicians_clearance(
    events: list[tuple[str, str]],
) -> None:
    state, held_uncleared = rules.SCHEDULED, False
    for event, outcome in events:
        try:
            state = rules.session_after(state, event, outcome)
        except rules.CourseRuleError:
            continue
        if state == rules.HELD:
            held_uncleared = True
        if event == "clear":
            held_uncleared = False
        if state == rules.DONE:
            assert not held_uncleared
    assert state in rules.SESSION_STATES


def facts(**kw: object) -> rules.CourseFacts:
    base: dict[str, object] = {
        "status": rules.ACTIVE,
        "sessions_planned": 6,
        "sessions_done": 0,
        "reevaluation_after": 6,
        "open_session": False,
        "previous_after_check_in": True,
        "consent_signed": True,
    }
    base.update(kw)
    return rules.CourseFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "override", "refusal"),
    [
        ({}, "", None),
        ({"status": rules.SUSPENDED}, "", "risk assessment"),
        ({"status": rules.PAUSED}, "", "until the physician decides"),
        ({"status": rules.STOPPED}, "", "stopped"),
        ({"sessions_done": 6}, "", "physician re-evaluates"),
        ({"sessions_done": 3, "reevaluation_after": 3}, "", "physician re-evaluates"),
        ({"open_session": True}, "", "already scheduled"),
        ({"previous_after_check_in": False}, "", "after-check"),
        ({"previous_after_check_in": False}, "   ", "after-check"),
        ({"previous_after_check_in": False}, "Taken by phone", None),
    ],
)
def test_may_schedule(changes: dict[str, object], override: str, refusal: str | None) -> None:
    why = rules.may_schedule(facts(**changes), override)
    assert (why is None) if refusal is None else (refusal in (why or ""))


def test_may_start_needs_the_signed_consent_and_an_active_course() -> None:
    assert rules.may_start(facts()) is None
    assert "consent" in (rules.may_start(facts(consent_signed=False)) or "")
    assert "suspended" in (rules.may_start(facts(status=rules.SUSPENDED)) or "")


def test_the_course_pauses_at_the_reevaluation_point_or_the_cap() -> None:
    assert rules.status_after_session(facts(sessions_done=5)) == rules.ACTIVE
    assert rules.status_after_session(facts(sessions_done=6)) == rules.PAUSED
    assert rules.status_after_session(facts(sessions_done=2, reevaluation_after=2)) == rules.PAUSED
    assert rules.status_after_session(facts(status=rules.SUSPENDED, sessions_done=6)) == (
        rules.SUSPENDED
    )


def test_decisions_and_risk_assessments() -> None:
    assert rules.status_after_decision("continue") == rules.ACTIVE
    assert rules.status_after_decision("change") == rules.ACTIVE
    assert rules.status_after_decision("stop") == rules.STOPPED
    with pytest.raises(rules.CourseRuleError):
        rules.status_after_decision("maybe")
    suspended = (rules.SUSPENDED, "safety")
    assert rules.status_after_risk_assessment(*suspended, "low") == (rules.ACTIVE, "")
    assert rules.status_after_risk_assessment(*suspended, "moderate") == (rules.ACTIVE, "")
    assert rules.status_after_risk_assessment(*suspended, "high") == (rules.PAUSED, "risk_high")
    # A high risk documented on an active course pauses it too: never home sessions while
    # the latest documented risk is high.
    assert rules.status_after_risk_assessment(rules.ACTIVE, "", "high") == (
        rules.PAUSED,
        "risk_high",
    )
    assert rules.status_after_risk_assessment(rules.ACTIVE, "", "low") == (rules.ACTIVE, "")
    assert rules.status_after_risk_assessment(rules.STOPPED, "", "high") == (rules.STOPPED, "")


@pytest.mark.parametrize("report", rules.REPORTS)
def test_a_report_pauses_an_active_course_named_for_it(report: str) -> None:
    """An emergency after a session and new bladder symptoms in a weekly check-in each pause
    an active course until the physician decides; no session may then start or be scheduled."""
    assert rules.pause_after_report(rules.ACTIVE, "", report) == (rules.PAUSED, report)
    paused = facts(status=rules.pause_after_report(rules.ACTIVE, "", report)[0])
    assert "paused" in (rules.may_start(paused) or "")
    assert "paused" in (rules.may_schedule(paused) or "")


def test_a_report_keeps_a_suspension_a_stop_and_a_pause_for_high_risk() -> None:
    for report in rules.REPORTS:
        for state, reason in (
            (rules.SUSPENDED, "safety"),
            (rules.STOPPED, ""),
            (rules.PAUSED, "risk_high"),
        ):
            assert rules.pause_after_report(state, reason, report) == (state, reason)


def test_a_pause_is_named_for_the_most_urgent_report() -> None:
    """The re-evaluation point gives way to either report, bladder symptoms to an emergency,
    and never the other way round: one decision answers all."""
    emergency, bladder, paused = rules.EMERGENCY, rules.BLADDER, rules.PAUSED
    assert rules.pause_after_report(paused, "reevaluation", bladder) == (paused, bladder)
    assert rules.pause_after_report(paused, "reevaluation", emergency) == (paused, emergency)
    assert rules.pause_after_report(paused, bladder, emergency) == (paused, emergency)
    assert rules.pause_after_report(paused, emergency, bladder) == (paused, emergency)
    assert rules.most_urgent([bladder, emergency, bladder]) == emergency
    assert rules.most_urgent([bladder]) == bladder
    assert rules.most_urgent([]) == ""
    with pytest.raises(rules.CourseRuleError, match="report must be one of"):
        rules.pause_after_report(rules.ACTIVE, "", "alert")


def test_a_pause_for_a_high_risk_re_assessed_lower_gives_way_to_a_report() -> None:
    """A clinician has seen the re-assessed risk; a report is new: the pause is named for it.
    The re-evaluation point gives way to the re-assessed risk too."""
    paused = rules.PAUSED
    for report in rules.REPORTS:
        assert rules.pause_after_report(paused, "risk_reassessed", report) == (paused, report)
    assert rules.most_urgent(["reevaluation", "risk_reassessed"]) == "risk_reassessed"
    assert rules.most_urgent(["risk_reassessed", "bladder", "risk_high"]) == "risk_high"


def test_a_risk_assessment_leaves_an_undecided_report_to_the_physician() -> None:
    """Low or moderate risk lifts a suspension, but a report (an emergency, new bladder
    symptoms) no physician has decided on since keeps the course paused for that decision."""
    for report in rules.REPORTS:
        for risk in ("low", "moderate"):
            assert rules.status_after_risk_assessment(
                rules.SUSPENDED, "safety", risk, [report]
            ) == (rules.PAUSED, report)
        assert rules.status_after_risk_assessment(rules.SUSPENDED, "safety", "high", [report]) == (
            rules.PAUSED,
            "risk_high",
        )
    assert rules.status_after_risk_assessment(rules.ACTIVE, "", "low", ["emergency"]) == (
        rules.ACTIVE,
        "",
    )


@pytest.mark.parametrize("risk", ["low", "moderate"])
def test_lifting_a_suspension_returns_to_the_pause_it_interrupted(risk: str) -> None:
    """A course paused for the physician and then suspended by a safety answer: a low or
    moderate risk lifts the suspension back to the pause (the physician's decision is still
    owed), never to active. The example: the block ends (paused for re-evaluation), the weekly
    item 9 is 1 (suspended), the risk is assessed low — paused for re-evaluation."""
    lift = rules.status_after_risk_assessment
    assert lift(rules.SUSPENDED, "safety", risk, ["reevaluation"]) == (
        rules.PAUSED,
        "reevaluation",
    )
    # A high risk since the latest decision, re-assessed lower: still the physician's decision.
    assert lift(rules.SUSPENDED, "safety", risk, ["risk_high"]) == (
        rules.PAUSED,
        "risk_reassessed",
    )
    assert lift(rules.SUSPENDED, "safety", risk, ["reevaluation", "risk_high", "bladder"]) == (
        rules.PAUSED,
        "bladder",
    )
    assert lift(rules.SUSPENDED, "safety", risk, []) == (rules.ACTIVE, "")


def test_a_risk_assessment_never_ends_a_pause_and_keeps_its_reason_true() -> None:
    """Only the physician's decision ends a pause. A pause for a high risk re-assessed low or
    moderate is the physician's decision after a high risk, no longer "high risk"; a high risk
    names any pause for itself (continue and change are refused while it is the latest)."""
    lift = rules.status_after_risk_assessment
    for risk in ("low", "moderate"):
        assert lift(rules.PAUSED, "risk_high", risk, ["risk_high"]) == (
            rules.PAUSED,
            "risk_reassessed",
        )
        assert lift(rules.PAUSED, "risk_high", risk) == (rules.PAUSED, "risk_reassessed")
        for reason in ("reevaluation", "emergency", "bladder", "risk_reassessed"):
            assert lift(rules.PAUSED, reason, risk, [reason]) == (rules.PAUSED, reason)
            assert lift(rules.PAUSED, reason, risk) == (rules.PAUSED, reason)
    for reason in rules.PAUSE_REASONS:
        assert lift(rules.PAUSED, reason, "high", [reason]) == (rules.PAUSED, "risk_high")


@given(
    st.sampled_from([rules.PAUSED, rules.SUSPENDED]),
    st.sampled_from(["low", "moderate", "high"]),
    st.lists(st.sampled_from(rules.PAUSE_REASONS), min_size=1),
)
def test_no_risk_assessment_makes_a_course_active_while_a_decision_is_owed(
    current: str, risk: str, owed: list[str]
) -> None:
    reason = "safety" if current == rules.SUSPENDED else owed[0]
    status, named = rules.status_after_risk_assessment(current, reason, risk, owed)
    assert status == rules.PAUSED and named in rules.PAUSE_REASONS


def test_continue_or_change_is_refused_while_the_documented_risk_is_high() -> None:
    for decision in ("continue", "change"):
        with pytest.raises(rules.CourseRuleError, match="suicide-risk assessment is high"):
            rules.status_after_decision(decision, "high")
        assert rules.status_after_decision(decision, "moderate") == rules.ACTIVE
        assert rules.status_after_decision(decision, "") == rules.ACTIVE
    assert rules.status_after_decision("stop", "high") == rules.STOPPED


def test_only_a_ready_session_is_stale_after_a_pause() -> None:
    assert [s for s in rules.SESSION_STATES if rules.stale_after_pause(s)] == [rules.READY]


def test_weekly_schedule_starts_with_the_baseline_and_asks_bladder_monthly() -> None:
    start = date(2027, 1, 4)
    due = rules.weekly_due(start, 9, P)
    assert due[0] == (start, True)
    assert [d for d, _ in due][:3] == [start, start + timedelta(7), start + timedelta(14)]
    assert [i for i, (_, bladder) in enumerate(due) if bladder] == [0, 4, 8]


D1, D2, D3 = date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18)


@pytest.mark.parametrize(
    ("supplies", "taken", "flags"),
    [
        # One supply, doses as prescribed: nothing to flag.
        ([rules.Supply(D1, 4, None)], [(D1, 1), (D2, 1)], []),
        # A session reporting 2 doses when 1 is prescribed.
        ([rules.Supply(D1, 4, None)], [(D2, 2)], ["more_than_prescribed"]),
        # A refill while 3 doses should be left (4 − 1 ≥ 2).
        ([rules.Supply(D1, 4, None), rules.Supply(D3, 4, None)], [(D2, 1)], ["early_refill"]),
        # A refill when 1 should be left: not early.
        ([rules.Supply(D1, 4, None), rules.Supply(D3, 4, 1)], [(D1, 1), (D2, 1), (D2, 1)], []),
        # The patient reports 0 left when 1 should be: 1 unaccounted.
        (
            [rules.Supply(D1, 4, None), rules.Supply(D3, 4, 0)],
            [(D1, 1), (D2, 1), (D2, 1)],
            ["unaccounted"],
        ),
        # Doses taken after the refill do not count against the earlier supply.
        ([rules.Supply(D1, 2, None), rules.Supply(D2, 4, None)], [(D1, 1), (D3, 1)], []),
    ],
)
def test_dispensing_flags(
    supplies: list[rules.Supply], taken: list[tuple[date, int]], flags: list[str]
) -> None:
    found = rules.dispensing_flags(supplies, taken, per_session=1, p=P)
    assert [f["flag"] for f in found] == flags


def test_doses_in_hand_never_negative() -> None:
    assert rules.doses_in_hand([rules.Supply(D1, 4, None)], [(D1, 1)]) == 3
    assert rules.doses_in_hand([rules.Supply(D1, 1, None)], [(D1, 1), (D2, 1)]) == 0


@pytest.mark.parametrize("status", [rules.SUSPENDED, rules.PAUSED, rules.STOPPED])
def test_a_hold_is_cleared_to_go_ahead_only_in_an_active_course(status: str) -> None:
    assert rules.may_go_ahead(facts()) is None
    assert status in (rules.may_go_ahead(facts(status=status)) or "")
