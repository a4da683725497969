"""A clinician downloads a case's record as FHIR from the record page in Chromium: the file
arrives with its name and is a valid FHIR Bundle of the person and their screen."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext

from crossline.accounts.roles import Role
from crossline.fhir import validate
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS
from tests.clinic.conftest import NAME, open_case
from tests.staff import session_key, staff_user


def test_a_clinician_downloads_the_record_as_a_fhir_bundle(
    open_context: Callable[..., BrowserContext],
    live_server: Any,
    shot_prefix: str,
    tmp_path: Path,
) -> None:
    case = open_case()
    key = session_key(staff_user("ivy.intake", Role.INTAKE))
    page = signed_in(open_context(accept_downloads=True), live_server, key).new_page()
    page.goto(f"{live_server.url}/clinic/cases/{case.public_id}/")
    link = page.get_by_role("link", name="Download the record (FHIR R4 JSON)")
    link.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"{shot_prefix}-record.png")
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename == f"crossline-case-{case.public_id}.fhir.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    bundle = json.loads(saved.read_text())
    validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:2] == ["Patient", "QuestionnaireResponse"]
    assert bundle["entry"][0]["resource"]["name"] == [{"text": NAME}]
