"""Where a user lands after signing in: the first page their roles open — the queue for a
clinician, the program page for an operator-only account (the queue would refuse it) — unless
a safe `next` asks for another page. The same home is the brand link and the 403 page's way back.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from crossline.accounts import services
from crossline.accounts.models import Authenticator
from tests.accounts.helpers import code_for, make_user, sign_in
from tests.staff import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("roles", "home"),
    [
        (("operator",), "/clinic/program/"),
        (("intake",), "/clinic/"),
        (("physician",), "/clinic/"),
        (("operator", "intake"), "/clinic/"),
    ],
    ids=["operator", "intake", "physician", "operator-and-intake"],
)
def test_sign_in_lands_on_the_first_page_the_roles_open(roles: tuple[str, ...], home: str) -> None:
    _, device, _ = make_user(roles=roles)
    assert device is not None
    client = Client()
    response = sign_in(client, "doc@example.org", device)
    assert response.status_code == 302 and response["Location"] == home
    assert client.get(home).status_code == 200
    # Already signed in: the sign-in and verify pages send the user home too.
    assert client.get("/clinic/sign-in/")["Location"] == home
    assert client.get("/clinic/verify/")["Location"] == home


def test_an_operator_still_follows_a_safe_next() -> None:
    _, device, _ = make_user(roles=("operator",))
    assert device is not None
    response = sign_in(Client(), "doc@example.org", device, next_url="/clinic/audit/")
    assert response["Location"] == "/clinic/audit/"
    response = sign_in(Client(), "doc@example.org", device, next_url="https://evil.example/")
    assert response["Location"] == "/clinic/program/"


def test_the_sign_in_form_carries_no_default_next() -> None:
    page = Client().get("/clinic/sign-in/").content.decode()
    assert 'name="next" value=""' in page


def test_an_operator_enrolling_continues_to_the_program_page() -> None:
    user, token = services.create_user("ops@example.org", ["operator"])
    client = Client()
    client.post(
        f"/clinic/enrol/{token}/",
        {
            "new_password1": "a long and memorable passphrase",
            "new_password2": "a long and memorable passphrase",
        },
    )
    client.get("/clinic/enrol/authenticator/")
    device = Authenticator.objects.get(user=user, confirmed=False)
    done = client.post("/clinic/enrol/authenticator/", {"otp_token": code_for(device)})
    assert done.status_code == 200
    link = re.search(r'<a class="button" href="([^"]+)">I have saved them', done.content.decode())
    assert link is not None and link.group(1) == "/clinic/program/"
    assert client.get(link.group(1)).status_code == 200


def test_the_brand_link_and_the_403_page_lead_an_operator_home() -> None:
    user, _, _ = make_user(roles=("operator",))
    refused = signed_in(user).get("/clinic/")
    assert refused.status_code == 403
    page = refused.content.decode()
    assert '<a href="/clinic/program/">Go to your workspace</a>' in page
    assert '<a href="/clinic/program/" class="brand">' in page
