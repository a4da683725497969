"""Staff URLs of the course's dispensing and recovery-plan pages (included under /clinic/)."""

from django.urls import path

from crossline.course import ops_views

app_name = "course_ops"
urlpatterns = [
    path("courses/<uuid:public_id>/supplies/", ops_views.supplies, name="supplies"),
    path("courses/<uuid:public_id>/recovery/", ops_views.recovery, name="recovery"),
]
