"""The patient's letter, under their private result link (included at the site root)."""

from django.urls import path

from crossline.evaluation import views

app_name = "evaluation_patient"
urlpatterns = [
    path("r/<str:token>/letter/", views.letter, name="letter"),
]
