"""What crossline's FHIR costs: the Questionnaire (built and validated once, then served from
cache), a record's export (built and validated on every download), the mappers' round trip,
a CDS Hooks call (the EHR's ES384 token checked, 20 prefetched medicines, the cards), and a
submission as contract JSON against the same answers as a FHIR QuestionnaireResponse.
(Not named fhir.py: with bench/ on the path, as some tests put it, that would hide the `fhir`
namespace package fhir.resources lives in.)

In one process, Django's test client against a real data directory (SQLite with crossline's
PRAGMAs) or a throw-away PostgreSQL database. `-n` records are made through the API and the
contact step (a candidate's screen with contact details), then each is exported.

    .venv/bin/python bench/fhir_costs.py [--database sqlite|postgres] [-n 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from web_client import answer_sets
from web_server import BENCH_RATE_LIMIT, in_process

BASE = "http://testserver/fhir/r4"


def _ms(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    """Median and 95th percentile of `n` runs of `fn`, in milliseconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def _cases(client: Any, n: int) -> list[Any]:
    from django.db import transaction
    from django.utils import timezone

    from crossline.clinic.cases import open_case
    from crossline.intake.models import Assessment, ContactRequest

    cases = []
    for body in answer_sets(n, eligibility="candidate"):
        response = client.post(
            "/api/v1/assessments", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 201, response.content
        screen = Assessment.objects.get(public_id=response.json()["id"])
        with transaction.atomic():
            request = ContactRequest.objects.create(
                assessment=screen,
                kind=ContactRequest.Kind.EVALUATION,
                contact={"name": "Bench Person", "phone": "2015550147", "state": "FL"},
                consent_to_contact=True,
                consent_version="bench",
            )
            cases.append(open_case(request, timezone.now()))
    return cases


def _cds_calls(client: Any, n: int) -> tuple[list[float], int]:
    """`n` CDS Hooks calls from a trusted EHR, each with a fresh ES384 token (signed beforehand:
    signing is the EHR's cost), a ketamine order and 20 active medicines: 13 of the knowledge
    base's classes and 7 names it does not know."""
    import uuid
    from dataclasses import replace

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings

    from crossline.knowledge import load

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = {**jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "b"}
    issuer, url = "https://ehr.bench", "/cds-services/crossline-ketamine-order-sign"
    settings.CROSSLINE = replace(settings.CROSSLINE, cds_clients={issuer: {"keys": [jwk]}})
    names = [f"{c.names[0]} 10 mg" for c in load().medication_classes.values()]
    names += [f"unlisted medicine {i} 5 mg" for i in range(20 - len(names))]

    def request(text: str, status: str = "active") -> dict[str, Any]:
        return {"resource": {"resourceType": "MedicationRequest", "status": status,
                             "intent": "order", "subject": {"reference": "Patient/p"},
                             "medicationCodeableConcept": {"text": text}}}  # fmt: skip

    body = json.dumps({
        "hook": "order-sign", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": "p", "draftOrders": {
            "resourceType": "Bundle", "type": "collection",
            "entry": [request("ketamine 100 mg/ml injection", "draft")]}},
        "prefetch": {"medications": {"resourceType": "Bundle", "type": "searchset",
                                     "entry": [request(n) for n in names]}},
    })  # fmt: skip
    now = int(time.time())
    claims = {"iss": issuer, "aud": f"http://testserver{url}", "iat": now, "exp": now + 300}
    tokens = [
        jwt.encode({**claims, "jti": str(uuid.uuid4())}, key, "ES384", headers={"kid": "b"})
        for _ in range(n)
    ]
    times = []
    for token in tokens:
        start = time.perf_counter()
        answer = client.post(url, body, content_type="application/json",
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.content
    times.sort()
    return times, len(body)


def _submissions(client: Any, k: Any, n: int) -> tuple[list[float], list[float]]:
    """`n` candidates' answers submitted twice, alternately: as the contract's JSON and as a
    FHIR QuestionnaireResponse (read, checked with fhir.resources, then the same path)."""
    from crossline.engine import parse_answers
    from crossline.fhir import response

    as_json, as_fhir = [], []
    for body in answer_sets(n, eligibility="candidate"):
        qr = response.from_answers(k, parse_answers(k, body["answers"]), BASE)
        for times, data, kind in (
            (as_json, json.dumps(body), "application/json"),
            (as_fhir, json.dumps(qr), "application/fhir+json"),
        ):
            start = time.perf_counter()
            answered = client.post("/api/v1/assessments", data, content_type=kind)
            times.append((time.perf_counter() - start) * 1000)
            assert answered.status_code == 201, answered.content
    return as_json, as_fhir


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("-n", type=int, default=200, help="records to export")
    args = p.parse_args(argv)
    with in_process(
        args.database, "crossline-fhir-", CROSSLINE_RATE_LIMIT_PER_MINUTE=BENCH_RATE_LIMIT
    ):
        from django.test import Client
        from django.utils import timezone

        from crossline.api import fhir as served
        from crossline.clinic import fhir_export
        from crossline.engine import parse_answers
        from crossline.fhir import questionnaire, response, validate
        from crossline.knowledge import load

        k = load()
        client = Client()
        start = time.perf_counter()
        built = questionnaire.assessment(k, BASE)
        build_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        validate(built)  # the first validation imports fhir.resources' models too
        first_validate_ms = (time.perf_counter() - start) * 1000
        validate_ms = _ms(lambda: validate(built), 20)
        size = len(json.dumps(built, ensure_ascii=False, separators=(",", ":")).encode())

        url = "/fhir/r4/Questionnaire/crossline-assessment"
        assert client.get(url).status_code == 200  # builds the cached copy
        served_ms = _ms(lambda: client.get(url), 200)

        answers = [parse_answers(k, b["answers"]) for b in answer_sets(args.n)]
        round_trip = []
        for a in answers:
            start = time.perf_counter()
            back = response.to_answers(k, response.from_answers(k, a, BASE), BASE)
            round_trip.append((time.perf_counter() - start) * 1000)
            assert parse_answers(k, back) == a

        cases = _cases(client, args.n)
        export, export_bytes = [], []
        for case in cases:
            start = time.perf_counter()
            bundle = fhir_export.record_bundle(case, BASE, timezone.now())
            export.append((time.perf_counter() - start) * 1000)
            export_bytes.append(len(json.dumps(bundle).encode()))
        export.sort()
        assert served.CONTENT_TYPE
        cds_ms, cds_bytes = _cds_calls(client, args.n)
        submit_json, submit_fhir = _submissions(client, k, args.n)

        print(f"database: {args.database}, records: {args.n}")
        print(f"Questionnaire: {size:,} bytes; built in {build_ms:.1f} ms; first validation "
              f"{first_validate_ms:.0f} ms (imports the models), then "
              f"{validate_ms[0]:.1f} ms (median)")  # fmt: skip
        print(f"GET {url} (cached): median {served_ms[0]:.2f} ms, p95 {served_ms[1]:.2f} ms")
        print(f"answers → QuestionnaireResponse → answers: median "
              f"{statistics.median(round_trip):.3f} ms")  # fmt: skip
        print(f"record export (read, build, validate): median {statistics.median(export):.1f} ms, "
              f"p95 {export[int(0.95 * (len(export) - 1))]:.1f} ms, "
              f"{statistics.median(export_bytes):,.0f} bytes")  # fmt: skip
        print(f"submission (evaluated, stored, audited), median: contract JSON "
              f"{statistics.median(submit_json):.2f} ms, the same answers as a FHIR "
              f"QuestionnaireResponse {statistics.median(submit_fhir):.2f} ms")  # fmt: skip
        cds_p95 = cds_ms[int(0.95 * (len(cds_ms) - 1))]
        print(f"CDS Hooks call (token checked, {cds_bytes:,} B request, cards, audited): median "
              f"{statistics.median(cds_ms):.2f} ms, p95 {cds_p95:.2f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
