"""The time zone a patient most likely sees their visit in, from the state they gave.

One zone per USPS code. Where a state spans several zones, the zone of most of its people:
FL Eastern (the western panhandle is Central), TN Central (Nashville, Memphis), KY Eastern
(Louisville, Lexington), IN Eastern (Indianapolis; a few north-west and south-west counties are
Central), MI Eastern, ND/SD/NE/KS/TX Central, ID Mountain (Boise; the panhandle is Pacific),
OR/NV Pacific, AK Alaska (the western Aleutians are Hawaii-Aleutian), AZ without daylight saving
(the Navajo Nation observes it). The clinician can always choose another zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EASTERN = "America/New_York"
CENTRAL = "America/Chicago"
MOUNTAIN = "America/Denver"
PACIFIC = "America/Los_Angeles"

STATE_ZONES: dict[str, str] = {
    "AL": CENTRAL, "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": CENTRAL,
    "CA": PACIFIC, "CO": MOUNTAIN, "CT": EASTERN, "DE": EASTERN, "DC": EASTERN,
    "FL": EASTERN, "GA": EASTERN, "HI": "Pacific/Honolulu", "ID": "America/Boise",
    "IL": CENTRAL, "IN": "America/Indiana/Indianapolis", "IA": CENTRAL, "KS": CENTRAL,
    "KY": EASTERN, "LA": CENTRAL, "ME": EASTERN, "MD": EASTERN, "MA": EASTERN,
    "MI": "America/Detroit", "MN": CENTRAL, "MS": CENTRAL, "MO": CENTRAL, "MT": MOUNTAIN,
    "NE": CENTRAL, "NV": PACIFIC, "NH": EASTERN, "NJ": EASTERN, "NM": MOUNTAIN,
    "NY": EASTERN, "NC": EASTERN, "ND": CENTRAL, "OH": EASTERN, "OK": CENTRAL, "OR": PACIFIC,
    "PA": EASTERN, "RI": EASTERN, "SC": EASTERN, "SD": CENTRAL, "TN": CENTRAL, "TX": CENTRAL,
    "UT": MOUNTAIN, "VT": EASTERN, "VA": EASTERN, "WA": PACIFIC, "WV": EASTERN,
    "WI": CENTRAL, "WY": MOUNTAIN,
    # Territories (the assessment contract accepts them)
    "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan", "AS": "Pacific/Pago_Pago",
}  # fmt: skip

# What a person calls each zone; the IANA name is shown beside it.
ZONE_NAMES: dict[str, Promise] = {
    EASTERN: _("Eastern time"),
    "America/Detroit": _("Eastern time"),
    "America/Indiana/Indianapolis": _("Eastern time"),
    CENTRAL: _("Central time"),
    MOUNTAIN: _("Mountain time"),
    "America/Boise": _("Mountain time"),
    "America/Phoenix": _("Arizona time"),
    PACIFIC: _("Pacific time"),
    "America/Anchorage": _("Alaska time"),
    "Pacific/Honolulu": _("Hawaii time"),
    "America/Puerto_Rico": _("Atlantic time"),
    "America/St_Thomas": _("Atlantic time"),
    "Pacific/Guam": _("Chamorro time"),
    "Pacific/Saipan": _("Chamorro time"),
    "Pacific/Pago_Pago": _("Samoa time"),
}

ZONES: tuple[str, ...] = tuple(sorted(ZONE_NAMES))


def zone_for_state(state: str) -> str:
    """The default zone for a USPS code (Eastern when the state is unknown or missing)."""
    return STATE_ZONES.get(state.upper(), EASTERN)


def zone_label(zone: str) -> str:
    """ "Eastern time (America/New_York)" in the active language."""
    name = ZONE_NAMES.get(zone)
    return f"{name} ({zone})" if name is not None else zone


def tz(zone: str) -> ZoneInfo:
    return ZoneInfo(zone)


class LocalTimeError(ValueError):
    """A day and time that name no single moment on a zone's clocks. The message is the error
    shown on the form's time field (the visit proposal and the session schedule: staff, English)."""


SKIPPED = "This time does not exist in that zone (the clocks change)."
REPEATED = (
    "This time happens twice in that zone on that day (the clocks go back): "
    "choose another time, for example an hour later."
)


def local_instant(day: date, at: time, zone: str) -> datetime:
    """The moment `day` at `at` on the clocks of `zone` (aware, in UTC). The visit proposal and
    the session schedule refuse, rather than move or guess, a time the clocks skip (02:30 on the
    night they go forward) and one they show twice (01:30 on the night they go back): taking
    either reading of 01:30 could set the visit or session an hour from the time someone meant."""
    return single_moment(datetime.combine(day, at.replace(fold=0), tzinfo=ZoneInfo(zone)))


def single_moment(local: datetime) -> datetime:
    """The one moment an aware `local` names on its own zone's clocks (in UTC), or
    LocalTimeError when those clocks skip that time or show it twice — the rule of
    `local_instant`, for a datetime a caller wrote in a zone: Python would silently read 02:30
    on the night the clocks skip it as 03:30, and 01:30 on the night they go back as either
    reading its `fold` happens to choose. A fixed offset (UTC) always names one moment."""
    instant = local.astimezone(UTC)
    if instant.astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise LocalTimeError(SKIPPED)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        raise LocalTimeError(REPEATED)  # the two readings differ
    return instant
