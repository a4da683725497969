"""Staff URLs of the treatment course (included under /clinic/): the physician's plan, the
course page and its actions (each a POST through crossline.course.services)."""

from django.urls import path

from crossline.course import views

app_name = "course"
urlpatterns = [
    path("cases/<uuid:public_id>/course/new/", views.plan_new, name="plan"),
    path("courses/<uuid:public_id>/", views.course_page, name="course"),
    path("courses/<uuid:public_id>/schedule/", views.schedule, name="schedule"),
    path("courses/<uuid:public_id>/sessions/<uuid:session_id>/clear/", views.clear, name="clear"),
    path("courses/<uuid:public_id>/sessions/<uuid:session_id>/done/", views.done, name="done"),
    path("courses/<uuid:public_id>/risk/", views.risk, name="risk"),
    path("courses/<uuid:public_id>/decision/", views.decision, name="decision"),
]
