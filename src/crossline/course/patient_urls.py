"""The patient's course pages, each behind a private link (namespace `course_patient`)."""

from django.urls import path

from crossline.course import patient_views

app_name = "course_patient"
urlpatterns = [
    path("s/<str:token>/", patient_views.session, name="session"),
    path("w/<str:token>/", patient_views.weekly, name="weekly"),
    path("r/<str:token>/course/", patient_views.overview, name="course"),
]
