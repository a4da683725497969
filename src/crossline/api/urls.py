"""The /api/v1 NinjaAPI instance; routers register their operations on it."""

from ninja import NinjaAPI

from crossline import __version__

api = NinjaAPI(
    title="crossline API",
    version=__version__,
    description="Assessments (the public assessment contract) and the adaptive flow.",
    urls_namespace="api",
)
