"""Password guessing is throttled per account and per address, with a clear message and 429;
the right password is refused too while locked; the lock lifts after the cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client: Client, username: str, password: str, ip: str = "203.0.113.7", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def test_guessing_one_account_locks_it_even_for_the_right_password(settings, alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = attempt(client, "alice", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    locked = attempt(client, "alice", "wrong")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed log-ins" in text and "try again in 15 minutes" in text
    assert locked["Retry-After"] == "900"
    assert 'value="alice"' in text  # the username stays in the field; the password never comes back
    right = attempt(client, "alice", "alice-password")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_any_address(settings, alice):
    for index in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), "alice", "wrong", ip=f"198.51.100.{index}")
    assert attempt(Client(), "alice", "alice-password", ip="192.0.2.99").status_code == 429


def test_one_address_guessing_many_accounts_is_locked(settings, alice, bob):
    for index in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), f"nobody-{index}", "wrong", ip="203.0.113.50")
    assert attempt(Client(), "bob", "bob-password", ip="203.0.113.50").status_code == 429
    # Other addresses and accounts are not affected.
    response = attempt(Client(), "bob", "bob-password", ip="203.0.113.51")
    assert response.status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(settings, alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "alice-password").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "alice", "wrong").status_code == 200


def test_the_lock_lifts_after_the_cool_off(settings, alice):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), "alice", "wrong")
    assert attempt(Client(), "alice", "alice-password").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert attempt(Client(), "alice", "alice-password").status_code == 302


def test_behind_trusted_proxies_the_forwarded_address_counts(settings, alice, bob):
    settings.STUDIO_TRUSTED_PROXIES = 1
    for index in range(settings.AXES_FAILURE_LIMIT):
        # A client may send any X-Forwarded-For; the proxy appends the address it saw.
        attempt(Client(), f"nobody-{index}", "wrong", ip="10.0.0.2",
                HTTP_X_FORWARDED_FOR=f"1.2.3.{index}, 203.0.113.60")
    blocked = attempt(Client(), "bob", "bob-password", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.60")
    assert blocked.status_code == 429
    # The proxy's own address is not what counts: another client behind it still logs in.
    other = attempt(Client(), "bob", "bob-password", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.61")
    assert other.status_code == 302


def test_the_admin_login_is_throttled_too(settings, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    response = Client().post("/admin/login/", {"username": "alice", "password": "alice-password"},
                             REMOTE_ADDR="203.0.113.70")
    assert response.status_code == 429
