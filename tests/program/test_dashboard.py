"""The program dashboard: operators only; settings in force, the release's policy values
read-only with citations, counts by non-identifying columns — and no PHI."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.intake.models import AggregateCount, ContactRequest
from crossline.knowledge import load
from crossline.program.models import ConsentText, OnCallEntry, ProgramSettings
from tests.program.conftest import cds_card, make_user
from tests.program.test_consent import shown_version, submitted
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db

URL = "/clinic/program/"
NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.q@example.org"


def test_only_verified_operators(client_as: Callable[..., Client]):
    assert Client().get(URL).status_code == 302
    assert Client().get(URL)["Location"].startswith("/clinic/sign-in/")
    unverified = client_as("operator", verified=False).get(URL)
    assert unverified.status_code == 302 and unverified["Location"] == "/clinic/verify/"
    for roles in (("intake",), ("physician",)):
        assert client_as(*roles).get(URL).status_code == 403
    assert Event.objects.filter(action="permission.denied").count() == 2
    assert client_as("operator").get(URL).status_code == 200
    assert client_as("operator", "physician").get(URL).status_code == 200


def test_shows_the_settings_in_force_and_links_into_the_admin(operator_client: Client):
    s = ProgramSettings.current()
    s.service_states = ["FL", "NJ", "NY"]
    s.universal_asq = True
    s.save()
    doc = make_user("pat.physician", "physician")
    OnCallEntry.objects.create(user=doc, position=1)
    ConsentText.objects.create(
        kind="contact", version="2027-01-15", text_en="e", text_es="s", published_at=timezone.now()
    )
    html = operator_client.get(URL).content.decode()
    assert "FL, NJ, NY" in html
    assert "ASQ asked of everyone</dt><dd>Yes" in html
    assert "pat.physician" in html
    assert "2027-01-15 (published" in html
    assert "2026-11-29-t (built-in wording" in html  # treatment consent
    assert "DEA telemedicine flexibilities (temporary rule)" in html
    assert "31 December 2026" in html
    days = (dt.date(2026, 12, 31) - timezone.localdate()).days
    assert f"<dt>Days left</dt><dd>{days}</dd>" in html
    assert f'href="/admin/program/programsettings/{s.pk}/change/"' in html
    assert 'href="/admin/program/oncallentry/"' in html
    assert 'href="/admin/program/consenttext/add/?copy_of=' in html


def test_the_roster_says_who_alerts_skip(operator_client: Client):
    """An entry left on the roster after its clinician lost their role or their account was
    turned off is not paged: the dashboard says so instead of "Active: Yes"."""
    doc = make_user("pat.physician", "physician")
    former = make_user("former.physician", "operator")
    OnCallEntry.objects.create(user=doc, position=1)
    OnCallEntry.objects.create(user=former, position=2)
    html = operator_client.get(URL).content.decode()
    rows = re.findall(r"<tr><td>\d+</td><td>([^<]+)</td><td>([^<]+)</td></tr>", html)
    assert rows == [
        ("pat.physician", "Yes"),
        ("former.physician", "No — not an active clinician, skipped"),
    ]


def test_shows_the_release_policy_read_only_with_citations(operator_client: Client):
    html = operator_client.get(URL).content.decode()
    k = load()
    assert "change only through a reviewed knowledge release" in html
    assert "<code>min_age</code>" in html and "<code>phq9_positive</code>" in html
    for cid in k.policy.citations["phq9_positive"]:
        assert f"<code>{cid}</code>" in html
    assert k.citations["policy.min_age"].reference.split(" (")[0].replace("'", "&#x27;") in html
    assert k.version in html
    assert "<form" not in html.split("<main", 1)[1]  # nothing editable on the page


def test_counts_by_non_identifying_columns_without_phi(operator_client: Client):
    client = Client()
    token = submitted(CANDIDATE)
    version = shown_version(client.get(f"/r/{token}/").content.decode())
    form = {
        "name": NAME,
        "email": EMAIL,
        "state": "FL",
        "consent": "on",
        "consent_version": version,
    }
    client.post(f"/r/{token}/request", {f"evaluation-{k}": v for k, v in form.items()})
    assert ContactRequest.objects.count() == 1
    submitted({**CANDIDATE, "profile.state": "TX"})
    AggregateCount.objects.create(
        day=timezone.localdate() - dt.timedelta(days=3), eligibility="candidate", count=5
    )
    AggregateCount.objects.create(
        day=timezone.localdate() - dt.timedelta(days=40), eligibility="candidate", count=100
    )
    response = operator_client.get(URL)
    html = response.content.decode()
    cases = response.context["cases"]
    assert cases["total"] == 1
    [open_row] = [r for r in cases["rows"] if r["status"].lower() == "open"]
    assert open_row["cells"] == [0, 0, 1]  # acute, non-acute, evaluation request
    rows = {r["eligibility"]: r for r in response.context["eligibility"]["rows"]}
    assert (rows["candidate"]["stored"], rows["candidate"]["purged"]) == (1, 5)
    assert rows["outside service area"]["total"] == 1
    assert response.context["eligibility"]["total"] == 7
    for secret in (NAME, "Zephyrine", EMAIL, "example.org", token):
        assert secret.lower() not in html.lower()
    # Reading counts is not a read of patient data: no record.viewed event.
    assert not Event.objects.filter(action__in=["record.viewed", "contact.viewed"]).exists()


def ehr_rows(section: str, table: int = 0) -> list[tuple[str, ...]]:
    """The rows of a table of the Integrations section (the trusted EHRs', the cards'), as the
    text of their cells."""
    table = section.split("</table>")[table]
    return [
        tuple(
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        )
        for row in re.findall(r'<tr role="row">(.*?)</tr>', table.split("<tbody", 1)[1])
    ]


def test_shows_the_trusted_ehrs_and_their_answered_cds_calls(operator_client: Client, settings):
    from dataclasses import replace

    from crossline.audit import record

    ehr, idle = "https://ehr.example.org", "https://idle.example.org"
    settings.CROSSLINE = replace(settings.CROSSLINE, cds_clients={ehr: {}, idle: {}})
    for _ in range(3):
        record("cds.checked", actor=f"cds:{ehr}", object_type="cds_service", object_id="x")
    page = operator_client.get("/clinic/program/").content.decode()
    section = page.split('id="integrations-h"')[1].split("</section>")[0]
    assert [r[:2] for r in ehr_rows(section)] == [(ehr, "3"), (idle, "0")]
    assert ehr_rows(section)[1] == (idle, "0", "—", "0", "0")
    assert "/fhir/r4/Questionnaire/crossline-assessment" in section


def test_shows_the_cds_cards_given_and_overridden_by_ehr_and_by_what_they_are_about(
    operator_client: Client, settings
):
    from dataclasses import replace

    ehr, other = "https://ehr.example.org", "https://other.example.org"
    settings.CROSSLINE = replace(settings.CROSSLINE, cds_clients={ehr: {}, other: {}})
    cds_card(ehr, "class:maoi", "critical", overridden=2)
    cds_card(ehr, "class:maoi", "critical")
    cds_card(other, "class:benzodiazepine", "warning", overridden=1)
    cds_card(ehr, "conditions", "info")
    cds_card(ehr, "class:maoi", "critical", days_ago=40, overridden=1)  # outside the window
    page = operator_client.get("/clinic/program/").content.decode()
    section = page.split('id="integrations-h"')[1].split("</section>")[0]
    assert ehr_rows(section) == [(ehr, "0", "—", "3", "1"), (other, "0", "—", "1", "1")]
    assert ehr_rows(section, table=1) == [
        ("MAO inhibitor (MAOI)", "critical", "2", "1"),
        ("Benzodiazepine", "warning", "1", "1"),
        ("Confirm the contraindications crossline cannot read from the record", "info", "1", "0"),
    ]


def test_says_when_no_ehr_is_trusted(operator_client: Client):
    page = operator_client.get("/clinic/program/").content.decode()
    assert "CROSSLINE_CDS_CLIENTS_FILE" in page.split('id="integrations-h"')[1]


def test_says_how_many_case_records_retention_deleted(operator_client: Client):
    from crossline.audit import record

    page = operator_client.get("/clinic/program/").content.decode()
    assert "No case record was deleted by the record retention period in the last 30 days" in page
    for _ in range(2):
        record("record.deleted", actor="system", object_type="case", object_id="x")
    page = operator_client.get("/clinic/program/").content.decode()
    assert "Not in the table: 2 case records deleted in the last 30 days when the record" in page
