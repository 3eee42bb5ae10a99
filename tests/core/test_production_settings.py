"""Without DEBUG the settings assume HTTPS (cookies HTTPS-only, HSTS for a year); each is
turned off or changed by an environment variable, for a plain-http set-up such as the demo."""

import runpy

import pytest
from django.core.exceptions import ImproperlyConfigured

from refunddesk import settings as settings_module

SECURITY_VARIABLES = ("DEBUG", "SECURE_COOKIES", "SECURE_HSTS_SECONDS",
                      "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                      "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
                      "REFUNDDESK_CLIENT_IP_HEADER")


def settings_with(monkeypatch, **environment):
    monkeypatch.setenv("SECRET_KEY", "settings-test")
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # The settings file run again, as a new process would run it.
    return runpy.run_path(settings_module.__file__)


def test_without_debug_cookies_are_https_only_and_hsts_lasts_a_year(monkeypatch):
    settings = settings_with(monkeypatch)

    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["LANGUAGE_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 31536000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert settings["SECURE_HSTS_PRELOAD"] is False
    # The reverse proxy redirects to HTTPS and tells the scheme; neither is assumed here.
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SECURE_PROXY_SSL_HEADER"] is None


def test_with_debug_nothing_assumes_https(monkeypatch):
    settings = settings_with(monkeypatch, DEBUG="true")

    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["CSRF_COOKIE_SECURE"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0


def test_a_plain_http_set_up_turns_secure_cookies_off(monkeypatch):
    settings = settings_with(monkeypatch, SECURE_COOKIES="false")

    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["CSRF_COOKIE_SECURE"] is False


def test_hsts_is_configurable(monkeypatch):
    settings = settings_with(monkeypatch, SECURE_HSTS_SECONDS="600",
                             SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="yes")

    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SECURE_HSTS_PRELOAD"] is True
    assert settings_with(monkeypatch, SECURE_HSTS_SECONDS="0")["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.parametrize(("value", "expected"), [
    ("X-Forwarded-Proto", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("X-Forwarded-Ssl: on", ("HTTP_X_FORWARDED_SSL", "on")),
])
def test_the_proxys_https_header_is_named_in_the_environment(monkeypatch, value, expected):
    settings = settings_with(monkeypatch, SECURE_PROXY_SSL_HEADER=value)

    assert settings["SECURE_PROXY_SSL_HEADER"] == expected


@pytest.mark.parametrize(("name", "value"), [
    ("SECURE_HSTS_SECONDS", "a year"),
    ("SECURE_HSTS_SECONDS", "-1"),
    ("SECURE_COOKIES", "maybe"),
    ("SECURE_PROXY_SSL_HEADER", "X Forwarded Proto"),
])
def test_a_wrong_value_stops_the_start_with_its_name(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        settings_with(monkeypatch, **{name: value})


def test_the_demo_serves_plain_http_with_cookies_that_are_not_https_only(monkeypatch):
    """`make run` serves http://127.0.0.1:8000: its processes get SECURE_COOKIES=false."""
    from django.core.management.base import CommandError

    from refunddesk.core.management.commands import demo

    started = []

    class Exited:
        returncode = 1

        def __init__(self, args, env):
            self.args = args
            started.append(env)

        def poll(self):
            return self.returncode

        def wait(self, timeout=None):
            return self.returncode

    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    monkeypatch.setattr(demo.subprocess, "Popen", Exited)
    monkeypatch.setattr(demo.signal, "signal", lambda *args: None)
    with pytest.raises(CommandError):
        demo.Command()._serve("127.0.0.1", 8000, [])

    assert started and all(env["SECURE_COOKIES"] == "false" for env in started)
