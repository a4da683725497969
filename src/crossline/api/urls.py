"""The /api/v1 NinjaAPI instance, its operations, and the URL patterns that serve it.

Mount with `path("api/v1/", include("crossline.api.urls"))`: the operations, the OpenAPI
document at openapi.json and a server-rendered docs page at docs (ninja's Swagger UI loads
scripts from a CDN, which the CSP and the no-third-party-requests rule forbid).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from crossline import __version__
from crossline.api import assessments, docs, errors, examples, flow
from crossline.api.schemas import request_schemas
from crossline.engine import InvalidInput
from crossline.knowledge import load


class CrosslineAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """Ninja's document plus the contract's request schemas and worked examples."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        k = load()
        schema["components"]["schemas"].update(request_schemas(k))
        examples.add_to(schema, k)
        return schema


api = CrosslineAPI(
    title="crossline API",
    version=__version__,
    description=(
        "Assessments (the public assessment contract) and the adaptive flow. Every refusal is"
        ' `{"errors": [{"field", "message"}]}`; request bodies are JSON, at most 64 KB and'
        f" nested at most {errors.MAX_DEPTH} levels deep."
        " The same questions, with their LOINC codes, are a FHIR R4 Questionnaire at"
        " `/fhir/r4/Questionnaire/crossline-assessment` (the server's CapabilityStatement:"
        " `/fhir/r4/metadata`); its linkIds are the answer ids below, and a QuestionnaireResponse"
        " to it may be submitted as `application/fhir+json`. EHRs ordering ketamine or"
        " esketamine can call the interaction check as CDS Hooks (discovery: `/cds-services`)."
    ),
    urls_namespace="api",
    docs_url=None,
)
api.add_exception_handler(errors.ApiError, errors.refusal)
api.add_exception_handler(InvalidInput, errors.refusal)
api.add_router("", assessments.router)
api.add_router("", flow.router)

urlpatterns = [
    path("docs", docs.page, {"api": api}, name="api-docs"),
    path("", api.urls),
]
