"""What an operator may change in the admin (PRODUCT.md, "Sources and policy"): service states,
alert deadlines and the on-call roster, contact and notification settings, consent text
versions, the telemedicine legal basis and its expiry, and universal ASQ (stricter only).
Clinical thresholds are not here: they change only with a reviewed knowledge release.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class ProgramSettings(models.Model):
    """One row per deployment (one program per deployment). `current()` creates it on demand."""

    # None: the knowledge base's policy default (FL, NJ). A list of USPS codes otherwise.
    service_states = models.JSONField(null=True, blank=True)
    universal_asq = models.BooleanField(default=False)
    acute_deadline_minutes = models.PositiveIntegerField(default=30)  # PRODUCT.md default
    non_acute_deadline_minutes = models.PositiveIntegerField(default=8 * 60)
    escalate_after_minutes = models.PositiveIntegerField(default=10)  # unacknowledged → next
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


class OnCallEntry(models.Model):
    """The on-call roster: unacknowledged alerts escalate down it, in `position` order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    position = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]
        verbose_name = "on-call roster entry"
        verbose_name_plural = "on-call roster"

    def __str__(self) -> str:
        return f"{self.position}. {self.user}"
