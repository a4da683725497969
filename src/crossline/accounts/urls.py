"""URLs of crossline.accounts (under /clinic/)."""

from django.urls import URLPattern, URLResolver, path

from crossline.accounts import views

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("verify/", views.verify, name="verify"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("enrol/authenticator/", views.enrol_authenticator, name="enrol_authenticator"),
    path("enrol/<str:token>/", views.enrol, name="enrol"),
    path("account/", views.account, name="account"),
    path("account/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
