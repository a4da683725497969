"""The JSON API (django-ninja): /api/v1, OpenAPI at /api/v1/openapi.json."""
