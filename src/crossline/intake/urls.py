from django.urls import path

from crossline.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.home, name="home"),
    path("check/start", views.start, name="start"),
    path("check/", views.resume, name="resume"),
    path("check/q/<str:screen_id>/", views.screen, name="screen"),
    path("r/<str:token>/", views.result, name="result"),
    path("r/<str:token>/print", views.result_print, name="result_print"),
    path("crisis/", views.crisis, name="crisis"),
    path("learn/", views.learn, name="learn"),
]

# The result page's contact forms (contact_views.py): POST only, each redirects back to the result.
from crossline.intake import contact_views  # noqa: E402

urlpatterns += [
    path("r/<str:token>/request", contact_views.request_evaluation, name="request_evaluation"),
    path("r/<str:token>/contact", contact_views.contact_me, name="contact_me"),
]
