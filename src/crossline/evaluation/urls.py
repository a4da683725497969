"""Staff URLs of crossline.evaluation (included under /clinic/)."""

from django.urls import path

from crossline.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("cases/<uuid:public_id>/evaluation/", views.evaluation, name="evaluation"),
    path("cases/<uuid:public_id>/evaluation/addenda/", views.addendum, name="addendum"),
]
