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
