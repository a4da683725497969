"""Behind reverse proxies the limiter counts the real client, not the proxy."""

from django.test import RequestFactory

from crossline.api.ratelimit import client_address

FACTORY = RequestFactory()


def request(forwarded: str | None, remote: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return FACTORY.post("/api/v1/assessments", **extra)


def test_without_trusted_proxies_the_client_is_the_connection() -> None:
    assert client_address(request("203.0.113.9"), 0) == "10.0.0.1"


def test_one_trusted_proxy_takes_the_address_it_appended() -> None:
    # A client can put anything on the left; only what our proxy appended counts.
    assert client_address(request("198.51.100.7, 203.0.113.9"), 1) == "203.0.113.9"


def test_two_trusted_proxies_take_the_second_address_from_the_right() -> None:
    assert client_address(request("1.1.1.1, 203.0.113.9, 10.0.0.2"), 2) == "203.0.113.9"


def test_a_missing_header_falls_back_to_the_connection() -> None:
    assert client_address(request(None), 1) == "10.0.0.1"
