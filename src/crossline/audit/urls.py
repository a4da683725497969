"""URLs of crossline.audit (mounted at /clinic/audit/)."""

from django.urls import path

from crossline.audit import views

app_name = "audit"
urlpatterns = [path("", views.search, name="search")]
