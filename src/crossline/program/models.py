"""What an operator may change in the admin (PRODUCT.md, "Sources and policy"): service states,
alert deadlines and the on-call roster, contact and notification settings, consent text
versions, the telemedicine legal basis and its expiry, and universal ASQ (stricter only).
Clinical thresholds are not here: they change only with a reviewed knowledge release.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models

MAX_RETENTION_YEARS = 100
# The longest alert deadline or escalation interval the admin takes: a week. Past it a
# deadline no longer protects anyone, and past about 10^12 minutes an alert's due time is not
# a date at all (SQLite stores any integer; opening the alert was a server error).
MAX_DEADLINE_MINUTES = 7 * 24 * 60


def _minutes() -> list[Any]:
    return [MinValueValidator(1), MaxValueValidator(MAX_DEADLINE_MINUTES)]


class ProgramSettings(models.Model):
    """One row per deployment (one program per deployment). `current()` creates it on demand."""

    # None: the knowledge base's policy default (FL, NJ). A list of USPS codes otherwise.
    service_states = models.JSONField(null=True, blank=True)
    universal_asq = models.BooleanField(default=False)
    acute_deadline_minutes = models.PositiveIntegerField(
        default=30, validators=_minutes()
    )  # PRODUCT.md default
    non_acute_deadline_minutes = models.PositiveIntegerField(default=8 * 60, validators=_minutes())
    escalate_after_minutes = models.PositiveIntegerField(
        default=10, validators=_minutes()
    )  # unacknowledged → next
    notification_emails = models.TextField(blank=True)  # team addresses, one per line
    video_visit_url = models.URLField(blank=True)  # the program's own video tool
    # Telemedicine prescribing of a controlled substance (FACTS §G1): the basis in force and
    # when it lapses. Without one in force, approval needs a recorded in-person evaluation.
    telemedicine_basis = models.CharField(
        max_length=200, blank=True, default="DEA telemedicine flexibilities (temporary rule)"
    )
    telemedicine_basis_expires = models.DateField(
        null=True, blank=True, default=dt.date(2026, 12, 31)
    )
    # Patient-record retention (PRODUCT.md "Privacy and audit": operator-configured, check
    # state law): records whose last activity is older than this many years are deleted
    # (`crossline.clinic.retention`). None, the default: patient records are never deleted.
    record_retention_years = models.PositiveSmallIntegerField(
        "patient records kept for (years after the last activity)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_YEARS)],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "program settings"
        verbose_name_plural = "program settings"

    def __str__(self) -> str:
        return "Program settings"

    @classmethod
    def current(cls) -> ProgramSettings:
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()

    def telemedicine_basis_in_force(self, today: dt.date) -> bool:
        if not self.telemedicine_basis:
            return False
        return self.telemedicine_basis_expires is None or today <= self.telemedicine_basis_expires

    def notification_addresses(self) -> list[str]:
        return [line.strip() for line in self.notification_emails.splitlines() if line.strip()]

    def clean(self) -> None:
        """Operator edits are checked against the knowledge base's own rules: real USPS codes,
        deadlines of at least a minute, universal ASQ stricter only (`Knowledge.with_policy`)."""
        from crossline.engine.errors import PolicyError
        from crossline.program.policy import apply_settings, base_knowledge

        errors: dict[str, list[str]] = {}
        if self.service_states is not None:
            try:
                self.service_states = normalise_states(self.service_states)
            except ValidationError as exc:
                errors["service_states"] = exc.messages
        for address in self.notification_addresses():
            try:
                validate_email(address)
            except ValidationError:
                errors.setdefault("notification_emails", []).append(
                    "Each line must be one e-mail address; one line is not."
                )
                break
        errors.update(self._deadline_order_errors())
        if not errors:
            try:
                apply_settings(base_knowledge(), self.policy_values())
            except PolicyError as exc:
                field = str(exc).split(":", 1)[0]
                target = {
                    "alert_deadline_acute_minutes": "acute_deadline_minutes",
                    "alert_deadline_non_acute_minutes": "non_acute_deadline_minutes",
                }.get(field, field)
                errors[target if target in _FIELD_NAMES else "__all__"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def _deadline_order_errors(self) -> dict[str, list[str]]:
        """Acute risk is answered no later than non-acute risk, and an unanswered acute alert
        reaches the next person on call before its deadline has passed."""
        acute, non_acute = self.acute_deadline_minutes, self.non_acute_deadline_minutes
        escalate = self.escalate_after_minutes
        values = (acute, non_acute, escalate)
        if not all(isinstance(v, int) and 1 <= v <= MAX_DEADLINE_MINUTES for v in values):
            return {}  # the fields' own errors name them
        if acute > non_acute:
            return {
                "acute_deadline_minutes": [
                    "The acute deadline cannot be longer than the non-acute deadline "
                    f"({non_acute} minutes)."
                ]
            }
        if escalate > acute:
            return {
                "escalate_after_minutes": [
                    "Escalation must come no later than the acute deadline "
                    f"({acute} minutes): otherwise an unacknowledged acute alert passes its "
                    "deadline before anyone else is paged."
                ]
            }
        return {}

    def policy_values(self) -> dict[str, Any]:
        """The operator-editable policy values this row sets (see `policy.apply_settings`)."""
        return {
            "service_states": self.service_states,
            "universal_asq": self.universal_asq,
            "acute_deadline_minutes": self.acute_deadline_minutes,
            "non_acute_deadline_minutes": self.non_acute_deadline_minutes,
        }


_FIELD_NAMES = {
    "service_states",
    "universal_asq",
    "acute_deadline_minutes",
    "non_acute_deadline_minutes",
}


def normalise_states(value: Any) -> list[str]:
    """A list of USPS codes (upper-cased, unique, sorted); anything else is a ValidationError
    naming the codes that are not a US state, DC or an inhabited territory."""
    from crossline.intake.states import STATE_NAMES

    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,;]+", value) if part]
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise ValidationError("Enter USPS codes separated by commas, for example FL, NJ.")
    codes = sorted({s.strip().upper() for s in value if s.strip()})
    bad = [c for c in codes if c not in STATE_NAMES]
    if bad:
        raise ValidationError(
            "Not a USPS code of a US state, DC or territory: %(codes)s.",
            params={"codes": ", ".join(bad)},
        )
    if not codes:
        raise ValidationError("Enter at least one state (leave empty for the release default).")
    return codes


class OnCallEntry(models.Model):
    """The on-call roster: unacknowledged alerts escalate down it, in `position` order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    position = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]
        verbose_name = "on-call roster entry"
        verbose_name_plural = "on-call roster"
        constraints = [models.UniqueConstraint(fields=["user"], name="oncall_one_entry_per_user")]

    def __str__(self) -> str:
        return f"{self.position}. {self.user}"

    def clean(self) -> None:
        """Only clinicians (intake or physician role) can be on call for safety alerts. An
        entry switched off is not checked: one whose user has since lost their clinical role
        must still be switchable off."""
        from crossline.accounts.roles import is_clinician

        user = getattr(self, "user", None) if self.user_id else None
        if self.active and user is not None and not (user.is_active and is_clinician(user)):
            raise ValidationError(
                {"user": "Only an active user with a clinical role (intake or physician)."}
            )


class PublishedError(Exception):
    """A published consent version was about to be changed or deleted."""


_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ConsentText(models.Model):
    """A version of a consent wording, in English and Spanish.

    A draft may be edited; once published a version never changes (a contact request records
    the version the person agreed to), so a new wording is a new version. The current version
    of a kind is the newest published one; with none published, the contact consent comes from
    the knowledge copy (`copy.toml`, `consent.contact`).
    """

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact consent (next to the contact forms)"
        TREATMENT = "treatment", "Treatment consent"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # ≤ 32: ContactRequest.consent_version stores it.
    version = models.CharField(
        max_length=32,
        help_text="A new label for every wording, e.g. 2027-01-15. Letters, digits, . _ -",
    )
    text_en = models.TextField("text (English)")
    text_es = models.TextField("text (Spanish)")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "-published_at", "-pk"]
        verbose_name = "consent text version"
        verbose_name_plural = "consent text versions"
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consent_kind_version")
        ]
        indexes = [models.Index(fields=["kind", "published_at"], name="consent_current")]

    def __str__(self) -> str:
        state = "published" if self.published_at else "draft"
        return f"{self.get_kind_display()} {self.version} ({state})"

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def text(self, lang: str) -> str:
        return self.text_es if lang == "es" else self.text_en

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.version and not _VERSION.match(self.version):
            errors["version"] = "Use letters, digits, dots, dashes or underscores only."
        elif self.version and self.version == fallback_version(self.kind):
            errors["version"] = (
                "This label is the built-in wording's version; choose a new one so a stored "
                "agreement always names one wording."
            )
        for name in ("text_en", "text_es"):
            if not getattr(self, name, "").strip():
                errors[name] = "Enter the wording."
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and _published_in_db(self.pk):
            raise PublishedError(f"consent version {self.pk} is published and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.pk is not None and _published_in_db(self.pk):
            raise PublishedError(f"consent version {self.pk} is published and cannot be deleted")
        return super().delete(*args, **kwargs)


def _published_in_db(pk: int) -> bool:
    return ConsentText.objects.filter(pk=pk, published_at__isnull=False).exists()


def fallback_version(kind: str) -> str | None:
    """The version of the knowledge copy's built-in wording of this kind, if it has one."""
    from crossline.knowledge import load

    section = load().copy.get("consent", {}).get(kind)
    return None if section is None else str(section["version"])


def refuse_published_delete(sender: Any, instance: ConsentText, **kwargs: Any) -> None:
    """pre_delete: also stops bulk (queryset) deletes of a published version."""
    if instance.published_at is not None:
        raise PublishedError(f"consent version {instance.pk} is published and cannot be deleted")
