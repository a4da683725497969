"""URLs of crossline.program (mounted at /clinic/program/)."""

from django.urls import URLPattern, URLResolver, path

from crossline.program import views

app_name = "program"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("courses/", views.courses, name="courses"),
    path("export/", views.export_screens, name="export"),
]
