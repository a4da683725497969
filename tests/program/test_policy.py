"""`current_knowledge()`: the knowledge the screen uses, with the operator's settings applied
through `Knowledge.with_policy` — service states, universal ASQ (stricter only), alert
deadlines — cached per process and invalidated when the settings row changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from crossline.engine.errors import PolicyError
from crossline.engine.flow import next_step
from crossline.intake import flow
from crossline.knowledge import load
from crossline.program import policy
from crossline.program.models import ProgramSettings
from crossline.program.policy import current_knowledge
from tests.program.test_admin import settings_form, settings_url
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db

NY_ADULT = {**CANDIDATE, "profile.state": "NY"}
NOT_DEPRESSED = {"phq9.1": 0, "phq9.2": 0, "phq9.9": 0}


def test_without_settings_the_release_applies_unchanged():
    k = current_knowledge()
    assert k.policy == load().policy
    assert k.policy.version == load().policy.version


def test_adding_ny_in_the_admin_makes_a_ny_adult_a_candidate(operator_client: Client):
    before = flow.decide(current_knowledge(), NY_ADULT, "en")
    assert before["eligibility"] == "outside_service_area"
    # The flow stops before the medical checklist for someone outside the service area.
    assert flow.state_of(current_knowledge(), NY_ADULT).asked[-1] == "profile.age"

    response = operator_client.post(settings_url(), settings_form(service_states="FL, NJ, NY"))
    assert response.status_code == 302

    k = current_knowledge()
    after = flow.decide(k, NY_ADULT, "en")
    assert after["eligibility"] == "candidate"
    assert after["policy_version"] != before["policy_version"]  # the decision records it
    assert after["knowledge_version"] == before["knowledge_version"]
    asked = flow.state_of(k, NY_ADULT).asked
    assert "history.antidepressant_trials" in asked  # the candidate path was asked
    assert any(i.startswith("medical.") for i in asked)
    # Florida is served only while it stays in the list.
    operator_client.post(settings_url(), settings_form(service_states="NY"))
    fl = flow.decide(current_knowledge(), CANDIDATE, "en")
    assert fl["eligibility"] == "outside_service_area"


def test_universal_asq_makes_the_flow_ask_everyone(operator_client: Client):
    step = next_step(current_knowledge(), NOT_DEPRESSED)
    assert step is not None and "asq.1" not in step.ids  # not asked without a trigger
    response = operator_client.post(settings_url(), settings_form(universal_asq="on"))
    assert response.status_code == 302
    step = next_step(current_knowledge(), NOT_DEPRESSED)
    assert step is not None and step.ids == ("asq.1",)
    answers = {**NOT_DEPRESSED, **{f"asq.{i}": "no" for i in range(1, 6)}, "burnout.single": 1}
    asked = flow.state_of(current_knowledge(), answers).asked
    assert {"asq.1", "asq.2", "asq.3", "asq.4", "asq.5"} <= set(asked)


def test_universal_asq_is_stricter_only():
    k = load().with_policy(universal_asq=True)
    with pytest.raises(PolicyError, match="stricter only"):
        k.with_policy(universal_asq=False)
    # A release that asks everyone stays that way whatever the row says (off = unchanged).
    assert policy.apply_settings(k, ProgramSettings().policy_values() | {"universal_asq": False})
    assert policy.apply_settings(k, ProgramSettings().policy_values()).policy.universal_asq


@pytest.mark.parametrize(
    "changes",
    [
        {"min_age": 16},
        {"phq9_positive": 5},
        {"burnout_asq_trigger": 6},
        {"bp_review_systolic": 200},
    ],
)
def test_hard_floors_and_thresholds_cannot_be_configured(changes: dict[str, Any]):
    with pytest.raises(PolicyError, match="not editable by operators"):
        load().with_policy(**changes)


def test_the_model_validates_like_the_admin():
    s = ProgramSettings(service_states=["FL", "XX"])
    with pytest.raises(ValidationError) as exc:
        s.full_clean()
    assert list(exc.value.message_dict) == ["service_states"]
    s = ProgramSettings(service_states=["fl", " ny "])
    s.full_clean()
    assert s.service_states == ["FL", "NY"]


def test_cached_per_process_without_a_query_per_call(django_assert_num_queries: Any):
    first = current_knowledge()
    with django_assert_num_queries(0):
        for _ in range(100):
            assert current_knowledge() is first


def test_a_save_invalidates_at_once_in_this_process():
    current_knowledge()
    s = ProgramSettings.current()
    s.service_states = ["NY"]
    s.save()
    assert current_knowledge().policy.service_states == frozenset({"NY"})


def test_other_processes_see_a_change_within_the_ttl(monkeypatch: pytest.MonkeyPatch):
    """A change made elsewhere (no signal here: a queryset update) shows after TTL_SECONDS,
    with one query of the settings row; an unchanged row is not rebuilt."""
    now = [1000.0]
    monkeypatch.setattr(policy, "_clock", lambda: now[0])
    ProgramSettings.current()
    first = current_knowledge()
    now[0] += policy.TTL_SECONDS + 1
    assert current_knowledge() is first  # re-checked, same updated_at: same object
    ProgramSettings.objects.update(service_states=["NY"], updated_at=policy_time())
    now[0] += 1
    assert current_knowledge().policy.service_states == frozenset({"FL", "NJ"})  # within TTL
    now[0] += policy.TTL_SECONDS
    assert current_knowledge().policy.service_states == frozenset({"NY"})


def policy_time() -> Any:
    from django.utils import timezone

    return timezone.now()


def test_current_settings_reads_nothing_personal():
    ProgramSettings.current()
    values = policy.current_settings()
    assert values is not None
    assert set(values) == set(policy.SETTINGS_COLUMNS)


def test_the_settings_last_read_stand_while_the_database_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, client: Any
):
    """An outage after a read: the settings last read stand (the education pages still
    answer) and the row is tried again after the TTL; a process that never read them fails."""
    from django.db import OperationalError

    now = [1000.0]
    monkeypatch.setattr(policy, "_clock", lambda: now[0])
    s = ProgramSettings.current()
    s.service_states = ["NY"]
    s.save()
    first = current_knowledge()
    tries = []

    def unreachable() -> None:
        tries.append(now[0])
        raise OperationalError("connection refused")

    monkeypatch.setattr(policy, "_settings_row", unreachable)
    now[0] += policy.TTL_SECONDS + 1
    assert current_knowledge() is first
    assert current_knowledge().policy.service_states == frozenset({"NY"})
    assert len(tries) == 1  # not again within the TTL
    now[0] += policy.TTL_SECONDS + 1
    assert client.get("/learn/").status_code == 200
    assert len(tries) == 2
    policy.invalidate()  # a process that has read nothing yet
    with pytest.raises(OperationalError):
        current_knowledge()
