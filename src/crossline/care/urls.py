"""URLs of crossline.care (mounted at /clinic/)."""

from django.urls import URLPattern, URLResolver, path

from crossline.care import views

app_name = "care"
urlpatterns: list[URLPattern | URLResolver] = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/summary.json", views.alert_summary, name="alert_summary"),
    path("alerts/<uuid:public_id>/", views.alert_detail, name="alert"),
    path("alerts/<uuid:public_id>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
]
