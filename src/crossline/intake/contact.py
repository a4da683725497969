"""Contact details: the evaluation request (candidates) and "ask a clinician to contact me".

Contact details are PHI: they are stored only encrypted (`ContactRequest.contact`), found again
only through keyed blind indexes of the normalised e-mail and phone, and never logged. Storing a
request links its assessment to a person (`linked_at`), which takes it out of anonymous retention.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from crossline.crypto import blind_index, normalise_contact
from crossline.engine.knowledge import Knowledge
from crossline.intake.models import Assessment, ContactRequest
from crossline.intake.states import STATE_NAMES, in_alphabetical_order, state_name

logger = logging.getLogger(__name__)

Kind = ContactRequest.Kind
EVALUATION_PREFIX = "evaluation"
CONTACT_ME_PREFIX = "contact"


@dataclass(frozen=True)
class Consent:
    """The consent wording shown next to the checkbox, and the version a request records."""

    version: str
    text: str


def consent(k: Knowledge, lang: str) -> Consent:
    """The contact consent in force: the newest version an operator published in the admin
    (`crossline.program`), else the knowledge copy's built-in wording (`consent.contact`)."""
    from crossline.program.consent import current_published

    published = current_published("contact")
    if published is not None:
        return Consent(version=published.version, text=published.text(lang))
    section = k.copy["consent"]["contact"]
    return Consent(version=section["version"], text=section["text"][lang])


@dataclass(frozen=True)
class Offers:
    """Which contact forms a stored decision allows (read from the snapshot, never recomputed)."""

    evaluation: bool  # eligibility `candidate` only: never burnout-only, excluded, out of area
    contact_me: bool  # every positive suicide-risk screen, acute or not

    @classmethod
    def of(cls, decision: Mapping[str, Any]) -> Offers:
        return cls(
            evaluation=decision["eligibility"] == "candidate",
            contact_me=decision["safety"]["level"] != "none",
        )


def _page_language() -> str:
    return (get_language() or "en")[:2]


def state_label(code: str) -> str:
    """A state as the form lists it, in the page's language: "Nueva Jersey (NJ)"."""
    return f"{state_name(code, _page_language())} ({code})"


class ContactForm(forms.Form):
    """Name, e-mail, phone and consent. At least one way to reach the person is required."""

    name = forms.CharField(label=_("Your name (optional)"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(
        label=_("Phone (US number with area code)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    consent = forms.BooleanField(
        error_messages={
            "required": _(
                "Please tick the box to agree to be contacted. We cannot contact you without it."
            )
        }
    )
    # The version of the wording the page showed; a request records the version agreed to.
    consent_version = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order: tuple[str, ...] = ("phone", "email", "name", "consent", "consent_version")

    def __init__(self, *args: Any, consent: Consent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent_wording = consent
        self.fields["consent"].label = consent.text
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"]
        if phone and len(normalise_contact("phone", phone)) != 10:
            raise forms.ValidationError(
                _("Enter a US phone number with its area code, for example 201-555-0123.")
            )
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reach = [name for name in self.fields if name in ("email", "phone")]
        if not any(name in self.errors or data.get(name) for name in reach):
            self.add_error(
                reach[0],  # the first of the two on the form
                _(
                    "Enter a phone number or an e-mail address (or both) "
                    "so a clinician can reach you."
                ),
            )
        if data.get("consent") and data.get("consent_version") != self.consent_wording.version:
            self.add_error(
                "consent",
                _("The consent wording has changed since this page opened. Please read it again."),
            )
        return data

    def details(self) -> dict[str, str]:
        """The contact details to encrypt: only what the person gave."""
        fields = ("name", "email", "phone", "state")
        return {f: self.cleaned_data[f] for f in fields if self.cleaned_data.get(f)}

    # Set when the request was over the per-minute limit: the page says so above the form.
    held_back = False

    def error_summary(self) -> list[dict[str, str]]:
        """Each error with the label of its field, in form order (shown above the form)."""
        return [
            {"id": self[name].auto_id, "label": _short_label(self, name), "message": str(message)}
            for name in self.fields
            for message in self.errors.get(name, [])
        ]


def _short_label(form: forms.Form, name: str) -> str:
    return str(gettext("Consent") if name == "consent" else form.fields[name].label)


class EvaluationRequestForm(ContactForm):
    """A candidate asks for a physician evaluation: their name and the state they will be in."""

    state = forms.ChoiceField(
        label=_("The state you will be in for your visits and home sessions"),
        help_text=_("Treatment can only happen while you are in a state this program serves."),
    )

    field_order: tuple[str, ...] = ("name", "email", "phone", "state", "consent", "consent_version")

    def __init__(
        self, *args: Any, answered_state: str, service_states: Iterable[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.answered_state = answered_state
        self.service_states = in_alphabetical_order(service_states, _page_language())
        name = self.fields["name"]
        name.label, name.required = _("Your name"), True
        name.error_messages["required"] = _("Please enter your name.")
        states = in_alphabetical_order(STATE_NAMES, _page_language())
        choice = self.fields["state"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [("", gettext("Choose a state")), *((s, state_label(s)) for s in states)]
        choice.error_messages["required"] = _("Choose the state you will be in.")
        choice.initial = answered_state  # the state the answers gave; the person confirms it

    def clean_state(self) -> str:
        state: str = self.cleaned_data["state"]
        if state == self.answered_state:
            return state
        served = ", ".join(state_label(s) for s in self.service_states)
        if state not in self.service_states:
            raise forms.ValidationError(
                _(
                    "This program can only treat people who are in one of its service states "
                    "(%(served)s) during visits and sessions, so it cannot treat you in %(state)s."
                ),
                params={"served": served, "state": state_label(state)},
            )
        raise forms.ValidationError(
            _(
                "Your answers said %(answered)s. This program can only treat people in its "
                "service states (%(served)s), and this must be the state in your answers: if you "
                "will be in %(state)s, please take the check again and choose it there."
            ),
            params={
                "answered": state_label(self.answered_state),
                "served": served,
                "state": state_label(state),
            },
        )


def evaluation_form(
    k: Knowledge, assessment: Assessment, lang: str, data: Mapping[str, Any] | None = None
) -> EvaluationRequestForm:
    return EvaluationRequestForm(
        data,
        prefix=EVALUATION_PREFIX,
        consent=consent(k, lang),
        answered_state=assessment.state,
        service_states=k.policy.service_states,
    )


def contact_me_form(k: Knowledge, lang: str, data: Mapping[str, Any] | None = None) -> ContactForm:
    return ContactForm(data, prefix=CONTACT_ME_PREFIX, consent=consent(k, lang))


def record_request(
    assessment: Assessment, kind: str, form: ContactForm, now: datetime
) -> tuple[ContactRequest, bool]:
    """Store the request and link the assessment; the caller owns the transaction.

    A second submission of the same kind (a double click, a reload) stores nothing new and
    returns the first request. The assessment row is locked so two submissions serialise.
    """
    rows = Assessment.objects.filter(pk=assessment.pk)
    if not list(rows.select_for_update().values_list("pk", flat=True)):  # lock; decrypts nothing
        raise Assessment.DoesNotExist  # deleted by anonymous retention since the page loaded
    existing = ContactRequest.objects.filter(assessment=assessment, kind=kind).first()
    if existing is not None:
        return existing, False
    details = form.details()
    request = ContactRequest.objects.create(
        assessment=assessment,
        kind=kind,
        contact=details,
        consent_to_contact=True,
        consent_version=form.consent_wording.version,
        email_index=contact_index("email", details.get("email")),
        phone_index=contact_index("phone", details.get("phone")),
    )
    rows.filter(linked_at__isnull=True).update(linked_at=now)
    from crossline.audit import Action, record
    from crossline.clinic.cases import open_case

    case = open_case(request, now)
    record(
        Action.CONTACT_CREATED,
        actor="anonymous",
        patient=case.public_id,
        object_type="contact_request",
        object_id=request.pk,
        detail={"kind": kind},
    )
    logger.info("contact request %s stored (kind %s)", request.pk, kind)
    return request, True


def contact_index(kind: str, value: str | None) -> str:
    if not value or not normalise_contact(kind, value):
        return ""
    return blind_index(settings.CROSSLINE.index_key, kind, value)


def page_context(
    k: Knowledge,
    assessment: Assessment,
    lang: str,
    evaluation: EvaluationRequestForm | None = None,
    contact_me: ContactForm | None = None,
) -> dict[str, Any]:
    """What the result and safety pages need for their contact sections (`contact.*`)."""
    offers = Offers.of(assessment.decision)
    sent = set(assessment.contacts.values_list("kind", flat=True))
    evaluation_open = offers.evaluation and Kind.EVALUATION not in sent
    contact_me_open = offers.contact_me and Kind.CONTACT_ME not in sent
    if evaluation_open and evaluation is None:
        evaluation = evaluation_form(k, assessment, lang)
    if contact_me_open and contact_me is None:
        contact_me = contact_me_form(k, lang)
    return {
        "contact": {
            "consent": consent(k, lang),
            "evaluation_offered": offers.evaluation,
            "evaluation_sent": Kind.EVALUATION in sent,
            "evaluation_form": evaluation if evaluation_open else None,
            "contact_me_offered": offers.contact_me,
            "contact_me_sent": Kind.CONTACT_ME in sent,
            "contact_me_form": contact_me if contact_me_open else None,
        }
    }


def earlier_screens(email: str | None = None, phone: str | None = None) -> QuerySet[Assessment]:
    """A person's screens, oldest first, found through the blind indexes of e-mail and phone.

    For the clinician workspace: the caller authorises the read and records it in the audit log.
    Matches either index; with neither value given, nothing matches.
    """
    match = Q()
    if email_index := contact_index("email", email):
        match |= Q(email_index=email_index)
    if phone_index := contact_index("phone", phone):
        match |= Q(phone_index=phone_index)
    if not match:
        return Assessment.objects.none()
    # Served by the db_index on each blind-index column of ContactRequest.
    requests = ContactRequest.objects.filter(match).values("assessment_id")
    return Assessment.objects.filter(pk__in=requests).order_by("created_at", "pk")


def requests_sharing_contact(assessment_ids: Collection[int]) -> list[QuerySet[ContactRequest]]:
    """The contact requests sharing an e-mail blind index, then those sharing a phone blind
    index, with a request of one of these assessments (theirs included): the same person, found
    without decrypting anything. For the clinician workspace, as `earlier_screens`; the ids are a
    page's worth. A blank index (that detail was not given) matches nothing.

    Two querysets, for the caller to combine with UNION: each is then a semi-join on its own
    indexed column, where one OR of the two subqueries makes PostgreSQL scan the whole table.
    """
    theirs = ContactRequest.objects.filter(assessment_id__in=assessment_ids)
    return [
        ContactRequest.objects.filter(
            **{f"{column}__in": theirs.exclude(**{column: ""}).values(column)}
        )
        for column in ("email_index", "phone_index")
    ]
