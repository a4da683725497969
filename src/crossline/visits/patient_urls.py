"""The patient's visit page, under their private result link: /r/<token>/visit/."""

from django.urls import path

from crossline.visits import patient_views

app_name = "patient_visit"
urlpatterns = [path("", patient_views.visit, name="visit")]
