"""Staff URLs of crossline.visits (mounted under /clinic/)."""

from django.urls import path

from crossline.visits import views

app_name = "visits"
urlpatterns = [
    path("cases/<uuid:public_id>/visit/", views.visit_page, name="visit"),
    path("cases/<uuid:public_id>/visit/<uuid:visit_id>/outcome", views.outcome, name="outcome"),
    path("cases/<uuid:public_id>/visit/<uuid:visit_id>/cancel", views.cancel, name="cancel"),
]
