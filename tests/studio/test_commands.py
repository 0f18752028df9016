"""The studio's management commands around the edges: setup_demo and serve_emulator, including
what they do when they cannot do their job."""

from __future__ import annotations

import io
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from studio.management.commands import serve_emulator


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# -- setup_demo -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_setup_demo_creates_an_admin_once_and_shows_its_password_once(settings):
    settings.DEBUG = True
    output = _run("setup_demo")
    user = get_user_model().objects.get()
    assert user.username == "demo" and user.is_superuser
    password = output.split("password:")[1].split()[0]
    assert user.check_password(password)
    assert _run("setup_demo") == ""  # a second run leaves the account and prints no password
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_setup_demo_does_nothing_when_a_user_exists(settings, alice):
    settings.DEBUG = True
    assert _run("setup_demo") == ""
    assert list(get_user_model().objects.all()) == [alice]


@pytest.mark.django_db
def test_setup_demo_never_creates_an_account_without_debug(settings):
    settings.DEBUG = False
    assert "no demo account" in _run("setup_demo")
    assert not get_user_model().objects.exists()


# -- serve_emulator ---------------------------------------------------------------------------


def test_serve_emulator_refuses_a_negative_latency():
    with pytest.raises(CommandError, match="must not be negative"):
        call_command("serve_emulator", "--latency", "-1", "--port", "0")


def test_serve_emulator_names_a_port_it_cannot_take():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
            call_command("serve_emulator", "--port", str(port), "--quiet")


def test_serve_emulator_serves_until_interrupted_and_then_closes(monkeypatch):
    made = []

    def make_server(emulator, **options):
        server = real_make_server(emulator, **{**options, "port": 0})

        def serve_forever():
            raise KeyboardInterrupt  # Ctrl-C

        server.serve_forever = serve_forever
        made.append((emulator, options, server))
        return server

    real_make_server = serve_emulator.make_server
    monkeypatch.setattr(serve_emulator, "make_server", make_server)
    output = _run("serve_emulator", "--port", "8799", "--latency", "0", "--quiet")
    (emulator, options, server), = made
    assert emulator.latency == 0 and options == {"host": "127.0.0.1", "port": 8799, "quiet": True}
    assert "/v1" in output and output.rstrip().endswith("Stopped.")
    assert server.socket.fileno() == -1  # closed
