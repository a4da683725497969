"""The project's URLs: the assessment, the JSON API, the clinician workspace, admin, health and
metrics."""

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.i18n import set_language

from crossline.accounts.admin_site import admin_site
from crossline.metrics import metrics


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 after a round trip to the database; 503 (take this server out of rotation) when the
    database cannot be reached — an answer, not a server error page, and logged once a call."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logging.getLogger("crossline.health").error(
            "health check: the database cannot be reached (%s)", type(exc).__name__
        )
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


handler403 = "crossline.web.permission_denied"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include("crossline.api.urls")),
    path("fhir/r4/", include("crossline.api.fhir")),
    path("", include("crossline.api.cds")),  # /cds-services: CDS Hooks
    # Staff: sign-in and accounts, the clinician workspace, audit search, the operator admin.
    path("clinic/", include("crossline.accounts.urls")),
    path("clinic/audit/", include("crossline.audit.urls")),
    path("clinic/program/", include("crossline.program.urls")),
    path("clinic/", include("crossline.care.urls")),
    path("clinic/", include("crossline.visits.urls")),
    path("clinic/", include("crossline.evaluation.urls")),
    path("clinic/", include("crossline.course.urls")),
    path("clinic/", include("crossline.clinic.urls")),
    path("clinic/", include("crossline.course.ops_urls")),
    path("admin/", admin_site.urls),
    path("r/<str:token>/visit/", include("crossline.visits.patient_urls")),
    path("", include("crossline.course.patient_urls")),  # /s/, /w/, /r/<token>/course/
    path("", include("crossline.evaluation.patient_urls")),  # /r/<token>/letter/
    path("", include("crossline.intake.urls")),
]
