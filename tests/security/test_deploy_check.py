"""Production settings pass `check --deploy`, and the HTTPS settings come from the environment
under Django's own names (a bad value stops start-up naming the variable)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from studio.env import env_proxy_header

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
)


def production_env(**overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SECURE_", "STUDIO_", "OPENAI_", "DJANGO_")) and name not in ("DEBUG",)}
    env.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="studio.example.com",
               DJANGO_SETTINGS_MODULE="studio.settings", **overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # Our own interpreter and arguments.
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_check_deploy_without_a_warning():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_logs_are_json_lines():
    code = "import django, logging; django.setup(); logging.getLogger('studio.probe').warning('hello %s', 42)"
    result = run(["-c", code], production_env())
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert {"time", "level", "logger", "message", "request_id", "user_id", "job_id"} <= set(line)
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "studio.probe", "hello 42")


def test_https_settings_come_from_the_environment():
    env = production_env(SECURE_HSTS_SECONDS="600", SECURE_SSL_REDIRECT="false",
                         SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto,https",
                         SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="no")
    result = run(["-c", SETTINGS_PROBE], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "600 False ('HTTP_X_FORWARDED_PROTO', 'https') False False"


def test_production_defaults_are_the_safe_ones():
    result = run(["-c", SETTINGS_PROBE], production_env())
    assert result.stdout.split("\n")[0] == "31536000 True None True True"


@pytest.mark.parametrize(("name", "value"), [
    ("SECURE_HSTS_SECONDS", "a year"), ("SECURE_HSTS_SECONDS", "-1"), ("SECURE_SSL_REDIRECT", "maybe"),
    ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto"), ("SECURE_PROXY_SSL_HEADER", "X Forwarded,https"),
    ("SECURE_HSTS_PRELOAD", "2"), ("STUDIO_SUBMIT_RATE_LIMIT", "-1"), ("STUDIO_SUBMIT_RATE_WINDOW", "0"),
    ("STUDIO_LOGIN_FAILURE_LIMIT", "0"), ("STUDIO_TRUSTED_PROXIES", "many"), ("STUDIO_LOG_FORMAT", "xml"),
    ("STUDIO_LOG_LEVEL", "LOUD"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(name, value):
    result = run(["manage.py", "check", "--deploy"], production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}=" in result.stderr


@pytest.mark.parametrize(("raw", "expected"), [
    ("X-Forwarded-Proto,https", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("HTTP_X_FORWARDED_PROTO, https", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("x-forwarded-ssl,on", ("HTTP_X_FORWARDED_SSL", "on")),
    ("", None),
])
def test_proxy_header_forms(monkeypatch, raw, expected):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    assert env_proxy_header("SECURE_PROXY_SSL_HEADER") == expected


def test_proxy_header_refuses_a_header_without_value(monkeypatch):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto,")
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER"):
        env_proxy_header("SECURE_PROXY_SSL_HEADER")
