"""URLs of crossline.clinic: the queue, claiming, and the applicant record (under /clinic/).

Case ids are UUIDs: a malformed id does not match any pattern (404), an unknown one is a 404
from the view's scoped lookup.
"""

from django.urls import URLPattern, URLResolver, path

from crossline.clinic import views

app_name = "clinic"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.queue_view, name="queue"),
    path("claim-next/", views.claim_next_view, name="claim_next"),
    path("find/", views.find_view, name="find"),
    path("cases/<uuid:public_id>/", views.record_view, name="record"),
    path("cases/<uuid:public_id>/fhir.json", views.fhir_export_view, name="fhir_export"),
    path("cases/<uuid:public_id>/claim/", views.claim_view, name="claim"),
    path("cases/<uuid:public_id>/release/", views.release_view, name="release"),
    path("cases/<uuid:public_id>/close/", views.close_view, name="close"),
    path("cases/<uuid:public_id>/reopen/", views.reopen_view, name="reopen"),
]
