"""/cds-services over HTTP: who may call (the EHR's signed JWT, as CDS Hooks requires), what a
call returns, what is kept (an audit event; nothing about the patient)."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from dataclasses import replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.test import Client, override_settings
from hypothesis import event, given
from hypothesis import strategies as st

from crossline.api.models import CdsCard, CdsFeedback
from crossline.audit.models import Event
from crossline.config import ConfigError, from_environment
from crossline.web import MAX_CDS_BODY_BYTES
from tests.forms_fuzz import fuzz, values

pytestmark = pytest.mark.django_db

ISS = "https://ehr.example.org"
URL = "/cds-services/crossline-ketamine-order-sign"
AUDIENCE = f"http://testserver{URL}"
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.ECAlgorithm if alg.startswith("ES") else jwt.algorithms.RSAAlgorithm
    jwk = algorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


JWKS = {"keys": [public_jwk(EC_KEY, "ec-1", "ES384"), public_jwk(RSA_KEY, "rsa-1", "RS384")]}


@pytest.fixture(autouse=True)
def trusted_ehr() -> Any:
    with override_settings(CROSSLINE=replace(settings.CROSSLINE, cds_clients={ISS: JWKS})):
        yield


def token(
    key: Any = EC_KEY, kid: str = "ec-1", alg: str = "ES384", lifetime: int = 60, **claims: Any
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISS,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


BODY = {
    "hook": "order-sign",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {
        "userId": "Practitioner/1",
        "patientId": "1288992",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "MedicationRequest",
                        "status": "draft",
                        "medicationCodeableConcept": {"text": "ketamine 100 mg/ml injection"},
                    }
                }
            ],
        },
    },
    "prefetch": {
        "medications": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "MedicationRequest",
                        "status": "active",
                        "subject": {"reference": "Patient/1288992", "display": "Zebediah Quill"},
                        "medicationCodeableConcept": {"text": "phenelzine 15 mg"},
                    }
                }
            ],
        }
    },
}


def call(bearer: str | None, body: Any = BODY, url: str = URL) -> Any:
    headers = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return Client().post(url, data, content_type="application/json", headers=headers)


def test_discovery_is_open_and_lists_the_services() -> None:
    response = Client().get("/cds-services")
    assert response.status_code == 200
    assert [s["hook"] for s in response.json()["services"]] == ["order-select", "order-sign"]


def test_a_trusted_ehrs_call_gets_cards_and_is_audited_without_the_patient() -> None:
    response = call(token())
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    assert [c["indicator"] for c in cards] == ["critical", "info"]
    event = Event.objects.get(action="cds.checked")
    assert event.actor == f"cds:{ISS}" and event.object_id == "crossline-ketamine-order-sign"
    assert event.detail == {"cards": 2, "critical": 1, "warning": 0}
    assert event.patient == ""
    stored = json.dumps(
        [str(getattr(e, f.name)) for e in Event.objects.all() for f in Event._meta.fields]
    )
    assert "1288992" not in stored and "Quill" not in stored and "phenelzine" not in stored


def test_rsa_keys_work_too() -> None:
    assert call(token(RSA_KEY, kid="rsa-1", alg="RS384")).status_code == 200


def test_the_same_token_is_refused_the_second_time() -> None:
    once = token()
    assert call(once).status_code == 200
    again = call(once)
    assert again.status_code == 401
    assert "used before" in again.json()["errors"][0]["message"]


OTHER_KEY = ec.generate_private_key(ec.SECP384R1())


@pytest.mark.parametrize(
    ("bearer", "why"),
    [
        (None, "a signed JWT is required"),
        ("not-a-jwt", "not a JWT"),
        (lambda: token(iss="https://stranger.example"), "issuer"),
        (lambda: token(aud="http://testserver/cds-services/other"), "Audience"),
        (lambda: token(lifetime=-120), "expired"),
        (lambda: token(lifetime=3600), "more than 300 seconds"),
        (lambda: token(kid="nobody"), "kid"),
        (lambda: token(OTHER_KEY), "Signature verification failed"),
        (lambda: token(RSA_KEY, kid="ec-1", alg="RS384"), "does not fit"),
        (lambda: token("shared-secret-of-32-bytes-or-more!!", alg="HS256"), "only ES256"),
        (lambda: jwt.encode({"iss": ISS}, None, algorithm="none"), "only ES256"),
        (lambda: _without("jti"), "jti"),
        (lambda: token(exp="soon"), "not valid"),
        (lambda: token(iat="now"), "not valid"),
        (lambda: _raw({"alg": ["ES384"], "kid": "ec-1"}), "only ES256"),
        (lambda: _raw({"alg": "ES384", "kid": ["ec-1"]}), "not a JWT"),
        (lambda: _raw(["not", "an", "object"]), "not a JWT"),
        ("Ωmega.Ωmega.Ωmega", "not a JWT"),
        ("...", "not a JWT"),
    ],
)
def test_untrusted_calls_are_refused_with_401_and_say_why(bearer: Any, why: str) -> None:
    response = call(bearer() if callable(bearer) else bearer)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    (error,) = response.json()["errors"]
    assert error["field"] == "Authorization" and why in error["message"]
    assert not Event.objects.filter(action="cds.checked").exists()


def _raw(header: Any) -> str:
    """A token with this header as it is (and a signature that cannot verify)."""

    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISS, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "j"}
    return f"{part(header)}.{part(claims)}.{part('sig')}"


def _without(claim: str) -> str:
    now = int(time.time())
    payload = {"iss": ISS, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "j"}
    del payload[claim]
    return jwt.encode(payload, EC_KEY, algorithm="ES384", headers={"kid": "ec-1"})


def test_with_no_trusted_ehr_configured_every_call_is_refused() -> None:
    with override_settings(CROSSLINE=replace(settings.CROSSLINE, cds_clients={})):
        response = call(token())
    assert response.status_code == 401
    assert "CROSSLINE_CDS_CLIENTS_FILE" in response.json()["errors"][0]["message"]


def test_refusals_are_logged_without_what_the_call_carried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        call(token(iss="https://stranger.example"))
    assert "refused" in caplog.text
    assert "Quill" not in caplog.text and "phenelzine" not in caplog.text


def test_calls_beyond_the_limit_get_429_refused_tokens_counting_too(
    one_rate_window: float, caplog: pytest.LogCaptureFixture
) -> None:
    limited = replace(settings.CROSSLINE, cds_clients={ISS: JWKS}, cds_rate_limit_per_minute=3)
    with override_settings(CROSSLINE=limited), caplog.at_level(logging.INFO):
        assert call(token()).status_code == 200
        assert call("not-a-token").status_code == 401  # counted before the token is checked
        assert call(token()).status_code == 200
        for _ in range(2):  # the second from what this process remembers, no database work
            over = call(token())
            assert over.status_code == 429
            assert int(over["Retry-After"]) == 30  # the window's other half
            assert over.json() == {
                "errors": [{"field": "$", "message": "more than 3 calls a minute: retry later"}]
            }
        other = Client(REMOTE_ADDR="192.0.2.9")  # another address has its own count
        assert (
            other.post(
                URL,
                json.dumps(BODY),
                content_type="application/json",
                headers={"Authorization": f"Bearer {token()}"},
            ).status_code
            == 200
        )
    assert Event.objects.filter(action="cds.checked").count() == 3  # refused calls: no event
    assert caplog.text.count("over the limit of 3 a minute") == 1
    assert "Quill" not in caplog.text and "127.0.0.1" not in caplog.text
    assert call(token(), url="/cds-services/nothing-here").status_code == 404  # not a service
    assert Client().get("/cds-services").status_code == 200  # discovery is not counted


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5", "١"])
def test_a_bad_cds_rate_limit_stops_start_up_naming_it(tmp_path: Any, value: str) -> None:
    env = {"CROSSLINE_DATA_DIR": str(tmp_path), "CROSSLINE_CDS_RATE_LIMIT_PER_MINUTE": value}
    with pytest.raises(ConfigError, match="CROSSLINE_CDS_RATE_LIMIT_PER_MINUTE"):
        from_environment(env)
    env["CROSSLINE_CDS_RATE_LIMIT_PER_MINUTE"] = "1200"
    assert from_environment(env).cds_rate_limit_per_minute == 1200
    del env["CROSSLINE_CDS_RATE_LIMIT_PER_MINUTE"]
    assert from_environment(env).cds_rate_limit_per_minute == 600


def test_an_unknown_service_is_404_and_bad_bodies_name_the_field() -> None:
    assert call(token(), url="/cds-services/nothing-here").status_code == 404
    for bad in (
        b"{",  # broken
        b"[" * 100_000,  # too deep
        b"\xff\xfe",  # not UTF-8
        b'{"hook": "order-sign", "hook": "order-select"}',  # which one? (a duplicated key)
        b'{"hook": NaN}',  # not JSON, though Python reads it
    ):
        not_json = call(token(), body=bad)
        assert not_json.status_code == 400 and not_json.json()["errors"][0]["field"] == "$"
    wrong_hook = call(token(), body={**BODY, "hook": "patient-view"})
    assert wrong_hook.status_code == 422
    assert wrong_hook.json()["errors"][0]["field"] == "hook"
    no_prefetch = call(token(), body={k: v for k, v in BODY.items() if k != "prefetch"})
    assert no_prefetch.status_code == 412
    assert no_prefetch.json()["errors"][0]["field"] == "prefetch.medications"
    assert not Event.objects.filter(action="cds.checked").exists()


def test_bundles_larger_than_the_apis_limit_are_read_up_to_one_megabyte() -> None:
    entry = BODY["prefetch"]["medications"]["entry"][0]
    big = json.loads(json.dumps(BODY))
    big["prefetch"]["medications"]["entry"] = [entry] * 600  # about 130 KB
    raw = json.dumps(big).encode()
    assert 64 * 1024 < len(raw) < MAX_CDS_BODY_BYTES
    assert call(token(), body=raw).status_code == 200
    too_big = raw + b" " * MAX_CDS_BODY_BYTES
    assert call(token(), body=too_big).status_code == 413


def test_calls_carry_no_session_or_csrf() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        URL,
        json.dumps(BODY),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token()}"},
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and not response.cookies


def clients_file(tmp_path: Any, doc: Any) -> dict[str, str]:
    path = tmp_path / "cds-clients.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return {"CROSSLINE_DATA_DIR": str(tmp_path / "var"), "CROSSLINE_CDS_CLIENTS_FILE": str(path)}


def test_the_trusted_ehrs_are_read_from_a_file(tmp_path: Any) -> None:
    config = from_environment(clients_file(tmp_path, {"clients": [{"iss": ISS, "jwks": JWKS}]}))
    assert config.cds_clients == {ISS: JWKS}
    assert from_environment({"CROSSLINE_DATA_DIR": str(tmp_path / "var")}).cds_clients == {}


PRIVATE = {**jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY, as_dict=True), "kid": "k"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{", "cannot read"),
        ({"clients": []}, "expected"),
        ({"clients": [{"jwks": JWKS}]}, "clients[0].iss: required"),
        ({"clients": [{"iss": ISS, "jwks": JWKS}, {"iss": ISS, "jwks": JWKS}]}, "listed twice"),
        ({"clients": [{"iss": ISS, "jwks": {"keys": []}}]}, "clients[0].jwks: required"),
        ({"clients": [{"iss": ISS, "jwks": {"keys": [PRIVATE]}}]}, "private key"),
        (
            {
                "clients": [
                    {"iss": ISS, "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}}
                ]
            },
            "shared-secret",
        ),
        ({"clients": [{"iss": ISS, "jwks": {"keys": [{**JWKS["keys"][0], "kid": None}]}}]}, "kid"),
        (
            {"clients": [{"iss": ISS, "jwks": {"keys": [JWKS["keys"][0]] * 2}}]},
            "kid 'ec-1' is listed twice",
        ),
        (
            {"clients": [{"iss": ISS, "jwks": {"keys": [{**JWKS["keys"][0], "alg": "HS256"}]}}]},
            "alg",
        ),
    ],
)
def test_a_bad_clients_file_stops_start_up_naming_the_field(
    tmp_path: Any, doc: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match="CROSSLINE_CDS_CLIENTS_FILE") as caught:
        from_environment(clients_file(tmp_path, doc))
    assert message in str(caught.value)


def test_crossline_check_names_the_trusted_ehrs_and_wants_the_base_url_in_production() -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from crossline.intake.management.commands.crossline_check import _cds

    assert _cds({ISS: JWKS}, 600) == (
        f"1 trusted EHR(s): {ISS}; at most 600 calls a minute from one address"
    )
    production = replace(settings.CROSSLINE, production=True, base_url_configured=False)
    with override_settings(CROSSLINE=production), pytest.raises(CommandError) as caught:
        call_command("crossline_check", stdout=StringIO())
    assert "cds: CROSSLINE_CDS_CLIENTS_FILE is set without CROSSLINE_BASE_URL" in str(caught.value)


# --- the cards given, and the EHR's feedback on them ------------------------------------------

FEEDBACK = f"{URL}/feedback"


def feedback_token(**claims: Any) -> str:
    return token(aud=f"http://testserver{FEEDBACK}", **claims)


def overridden(card: str, **extra: Any) -> dict[str, Any]:
    return {
        "card": card,
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-29T08:00:00Z",
        **extra,
    }


def given_cards() -> list[dict[str, Any]]:
    response = call(token())
    assert response.status_code == 200
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def test_each_card_given_is_kept_by_its_uuid_with_what_it_is_about_and_nothing_else() -> None:
    cards = given_cards()
    kept = {str(c.uuid): c for c in CdsCard.objects.all()}
    assert [kept[c["uuid"]].kind for c in cards] == ["class:maoi", "conditions"]
    assert {(c.issuer, c.service, c.indicator) for c in kept.values()} == {
        (ISS, "crossline-ketamine-order-sign", "critical"),
        (ISS, "crossline-ketamine-order-sign", "info"),
    }
    assert [f.name for f in CdsCard._meta.fields] == [
        "uuid",
        "issuer",
        "service",
        "kind",
        "indicator",
        "issued_at",
    ]  # nothing of the patient or the call: no field could hold it
    assert len({c["uuid"] for c in given_cards()} | set(kept)) == 4  # new uuids every call


def test_feedback_on_an_overridden_card_is_kept_and_audited_without_the_comment() -> None:
    critical = given_cards()[0]["uuid"]
    reason = {"system": "https://ehr.example.org/override-reasons", "code": "benefit-outweighs"}
    body = {
        "feedback": [
            overridden(
                critical,
                overrideReason={"reason": reason, "userComment": "Zebediah Quill stopped it"},
            )
        ]
    }
    response = call(feedback_token(), body=body, url=FEEDBACK)
    assert response.status_code == 200, response.content
    assert response.json() == {}
    (kept,) = CdsFeedback.objects.all()
    assert (str(kept.card_id), kept.outcome, kept.reason_system, kept.reason_code) == (
        critical,
        "overridden",
        reason["system"],
        reason["code"],
    )
    assert kept.commented and kept.outcome_at.isoformat() == "2026-11-29T08:00:00+00:00"
    event = Event.objects.get(action="cds.feedback")
    assert event.actor == f"cds:{ISS}" and event.object_id == "crossline-ketamine-order-sign"
    assert event.detail == {"overridden": 1, "critical": 1, "warning": 0}
    stored = json.dumps(
        [
            [str(getattr(row, f.name)) for f in type(row)._meta.fields]
            for row in [*Event.objects.all(), *CdsFeedback.objects.all()]
        ]
    )
    assert "Quill" not in stored and "stopped" not in stored


def test_feedback_needs_a_token_signed_for_the_feedback_endpoint() -> None:
    card = given_cards()[0]["uuid"]
    body = {"feedback": [overridden(card)]}
    assert call(None, body=body, url=FEEDBACK).status_code == 401
    wrong_audience = call(token(), body=body, url=FEEDBACK)  # signed for the service itself
    assert wrong_audience.status_code == 401
    assert not CdsFeedback.objects.exists()
    assert call(feedback_token(), body=body, url=FEEDBACK).status_code == 200


def test_feedback_naming_a_card_not_given_to_this_ehr_keeps_nothing() -> None:
    mine = given_cards()[0]["uuid"]
    other_service = "/cds-services/crossline-ketamine-order-select/feedback"
    select_token = token(aud=f"http://testserver{other_service}")
    refused = call(select_token, body={"feedback": [overridden(mine)]}, url=other_service)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "feedback[0].card"
    stranger = str(uuid.uuid4())
    body = {"feedback": [overridden(mine), overridden(stranger)]}
    response = call(feedback_token(), body=body, url=FEEDBACK)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["feedback[1].card"]
    assert "90 days" in response.json()["errors"][0]["message"]
    assert not CdsFeedback.objects.exists()  # not even the entry naming a real card
    assert not Event.objects.filter(action="cds.feedback").exists()


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("not an object", "feedback[0]"),
        ({"outcome": "overridden", "outcomeTimestamp": "2026-11-29T08:00:00Z"}, "feedback[0].card"),
        ({"card": "not-a-uuid"}, "feedback[0].card"),
        ({"outcome": "accepted"}, "feedback[0].outcome"),
        ({"outcome": "dismissed"}, "feedback[0].outcome"),
        ({"outcomeTimestamp": "2026-11-29"}, "feedback[0].outcomeTimestamp"),
        ({"outcomeTimestamp": "2026-11-29T08:00:00"}, "feedback[0].outcomeTimestamp"),
        ({"outcomeTimestamp": "9999-12-31T23:00:00-05:00"}, "feedback[0].outcomeTimestamp"),
        ({"outcomeTimestamp": 1764403200}, "feedback[0].outcomeTimestamp"),
        ({"overrideReason": "because"}, "feedback[0].overrideReason"),
        ({"overrideReason": {"reason": {"code": "x"}}}, "feedback[0].overrideReason.reason.system"),
        (
            {"overrideReason": {"reason": {"system": "https://x", "code": "c" * 65}}},
            "feedback[0].overrideReason.reason.code",
        ),
        ({"overrideReason": {"userComment": 5}}, "feedback[0].overrideReason.userComment"),
        # Text that cannot be kept: a NUL (PostgreSQL refused it: a 500), a lone surrogate.
        (
            {"overrideReason": {"reason": {"system": "https://x\u0000", "code": "y"}}},
            "feedback[0].overrideReason.reason.system",
        ),
        (
            {"overrideReason": {"reason": {"system": "https://x", "code": "y\u0000"}}},
            "feedback[0].overrideReason.reason.code",
        ),
        (
            {"overrideReason": {"reason": {"system": "https://x", "code": "\ud800"}}},
            "feedback[0].overrideReason.reason.code",
        ),
        (
            {"overrideReason": {"reason": {"system": "https://x y", "code": "y"}}},
            "feedback[0].overrideReason.reason.system",
        ),
    ],
)
def test_bad_feedback_names_the_field_and_keeps_nothing(entry: Any, field: str) -> None:
    card = given_cards()[0]["uuid"]
    sent = entry if not isinstance(entry, dict) else {**overridden(card), **entry}
    if isinstance(entry, dict) and "card" not in entry and field == "feedback[0].card":
        sent = entry
    response = call(feedback_token(), body={"feedback": [sent]}, url=FEEDBACK)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not CdsFeedback.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"feedback": []}, {"feedback": {}}, [], {"feedback": [{}] * 101}]
)
def test_a_feedback_call_needs_one_to_a_hundred_entries(body: Any) -> None:
    response = call(feedback_token(), body=body, url=FEEDBACK)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in ("$", "feedback")


def test_feedback_for_an_unknown_service_is_404() -> None:
    assert (
        call(feedback_token(), body={"feedback": []}, url="/cds-services/x/feedback").status_code
        == 404
    )


def test_cards_older_than_ninety_days_are_forgotten_with_their_feedback() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from crossline.api.cds import forget_cards

    old, recent = given_cards()
    body = {"feedback": [overridden(old["uuid"]), overridden(recent["uuid"])]}
    assert call(feedback_token(), body=body, url=FEEDBACK).status_code == 200
    now = timezone.now()
    CdsCard.objects.filter(uuid=old["uuid"]).update(issued_at=now - timedelta(days=91))
    assert forget_cards(now) == 1
    assert [str(c.uuid) for c in CdsCard.objects.all()] == [recent["uuid"]]
    assert [str(f.card_id) for f in CdsFeedback.objects.all()] == [recent["uuid"]]
    assert forget_cards(now) == 0


CARD_FORMS = [str, lambda u: u.upper(), lambda u: "{" + u + "}", lambda u: "urn:uuid:" + u]


@pytest.fixture
def no_cds_limit() -> Any:
    """The CDS calls' limit out of the way: a property test makes hundreds of calls a minute."""
    many = replace(settings.CROSSLINE, cds_clients={ISS: JWKS}, cds_rate_limit_per_minute=10**6)
    with override_settings(CROSSLINE=many):
        yield


@fuzz(200)
@given(data=st.data())
@pytest.mark.usefixtures("no_cds_limit")
def test_any_feedback_call_is_kept_whole_or_refused_naming_a_field(data: Any) -> None:
    """Real cards named in any of the spellings a UUID has, unknown ones, and anything else in
    any field: a call is kept whole (200, every entry) or refused naming a field, never a
    server error, and a refused call keeps nothing."""
    cards = [c["uuid"] for c in given_cards()]
    real = st.sampled_from(cards).flatmap(
        lambda u: st.sampled_from(CARD_FORMS).map(lambda form: form(u))
    )

    def entries(card: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {
                "card": card,
                "outcome": st.just("overridden"),
                "outcomeTimestamp": st.just("2026-11-29T08:00:00Z"),
            },
            optional={"overrideReason": st.just({"reason": {"system": "https://x", "code": "y"}})},
        )

    anything = entries(real | st.uuids().map(str) | st.text(max_size=8)) | values()
    body = {
        "feedback": data.draw(
            st.lists(anything, min_size=1, max_size=4)
            | st.lists(entries(real), min_size=1, max_size=4)
        )
    }
    before = CdsFeedback.objects.count()
    response = call(feedback_token(), body=body, url=FEEDBACK)
    assert response.status_code in (200, 422), response.content
    event(f"status {response.status_code}")
    if response.status_code == 200:
        assert CdsFeedback.objects.count() == before + len(body["feedback"])
    else:
        assert response.json()["errors"][0]["field"].startswith("feedback")
        assert CdsFeedback.objects.count() == before
