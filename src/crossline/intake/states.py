"""Display names of the USPS codes the contract accepts (states, DC, territories)."""

import unicodedata
from collections.abc import Iterable

STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}

# Spanish names where they differ from English (product copy — bilingual review required).
SPANISH_NAMES = {
    "DC": "Distrito de Columbia",
    "HI": "Hawái",
    "LA": "Luisiana",
    "MI": "Míchigan",
    "MS": "Misisipi",
    "MO": "Misuri",
    "NC": "Carolina del Norte",
    "ND": "Dakota del Norte",
    "NJ": "Nueva Jersey",
    "NM": "Nuevo México",
    "NY": "Nueva York",
    "OR": "Oregón",
    "PA": "Pensilvania",
    "SC": "Carolina del Sur",
    "SD": "Dakota del Sur",
    "TN": "Tennessee",
    "WV": "Virginia Occidental",
    "AS": "Samoa Americana",
    "MP": "Islas Marianas del Norte",
    "PR": "Puerto Rico",
    "VI": "Islas Vírgenes de EE. UU.",
}


def state_name(code: str, lang: str) -> str:
    """A state's display name in the page's language (the code itself if unknown)."""
    if lang == "es" and code in SPANISH_NAMES:
        return SPANISH_NAMES[code]
    return STATE_NAMES.get(code, code)


def alphabetical_key(name: str) -> str:
    """A name's place in an alphabetical list, as a reader looks for it: accents and case aside
    (code-point order put "Míchigan" after "Montana" on Spanish pages)."""
    letters = unicodedata.normalize("NFKD", name)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


def in_alphabetical_order(codes: Iterable[str], lang: str) -> list[str]:
    """USPS codes ordered by their names in `lang` (`alphabetical_key`)."""
    return sorted(codes, key=lambda code: alphabetical_key(state_name(code, lang)))
