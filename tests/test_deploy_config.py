"""The Dockerfile and compose.yaml, read as Docker would read them (no engine runs here).

Every command, port, variable and path they name must exist in the project: a renamed
setting, a moved file or a dropped management command fails here, not on an operator's server.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("studio", "gallery", "imageapi", "teams", "audit")
# Variables the base image, Python or pip read: not ours to provide.
RUNTIME_VARIABLES = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR",
                     "PIP_DISABLE_PIP_VERSION_CHECK"}
# What a subprocess standing in for a container may inherit from this machine.
HOST_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
# Variables of the third-party images compose runs, as their documentation names them.
IMAGE_VARIABLES = {
    "postgres": {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"},
    "minio/minio": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"},
    "minio/mc": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"},
}


# -- reading the Dockerfile ----------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str] | None:
        text = self.arguments.strip()
        return json.loads(text) if text.startswith("[") else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return lines


@cache
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines((ROOT / "Dockerfile").read_text()):
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            name, _, default = arguments.partition("=")
            args[name.strip()] = default.strip()
        elif keyword == "FROM":
            parts = arguments.split()
            base = re.sub(r"\$\{(\w+)\}", lambda match: args[match.group(1)], parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        else:
            assert stages, f"{keyword} before any FROM"
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return args, stages


def _in_project(image_path: str) -> Path:
    """The project file at a path inside the image (relative to the runtime's WORKDIR)."""
    workdir = _runtime().all("WORKDIR")[-1].arguments.strip()
    path = Path(image_path)
    return ROOT / (path.relative_to(workdir) if path.is_absolute() else path)


def _copied_sources() -> set[str]:
    return {source for stage in dockerfile()[1] for origin, sources, _ in _copies(stage) if origin is None
            for source in sources}


def _runtime() -> Stage:
    return dockerfile()[1][-1]


def _env(stage: Stage) -> dict[str, str]:
    values = {}
    for item in stage.all("ENV"):
        for token in shlex.split(item.arguments):
            name, _, value = token.partition("=")
            values[name] = value
    return values


def _copies(stage: Stage) -> list[tuple[str | None, list[str], str]]:
    """(stage copied from, sources, destination) of each COPY."""
    result = []
    for item in stage.all("COPY"):
        tokens = shlex.split(item.arguments)
        source_stage = next((token.split("=", 1)[1] for token in tokens if token.startswith("--from=")), None)
        paths = [token for token in tokens if not token.startswith("--")]
        result.append((source_stage, paths[:-1], paths[-1]))
    return result


# -- what the project provides ---------------------------------------------------------------------


def _python_sources() -> list[Path]:
    files = [path for package in PROJECT_PACKAGES for path in (ROOT / package).rglob("*.py")
             if "migrations" not in path.parts]
    return [*files, ROOT / "gunicorn.conf.py", ROOT / "scripts" / "healthcheck"]


@cache
def variables_read() -> frozenset[str]:
    """Every environment variable the project's code reads: env_*("NAME", ...), os.environ.get/[...],
    os.getenv, and ${NAME} in the container's entrypoint."""
    names: set[str] = set()
    readers = {"env_str", "env_bool", "env_float", "env_int", "env_list", "env_choice", "env_url", "env_path",
               "getenv", "get"}
    for path in _python_sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                function = node.func
                called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
                is_environ_get = called == "get" and isinstance(function, ast.Attribute) and \
                    ast.unparse(function.value) in ("os.environ", "environ")
                if called in readers - {"get"} or called.startswith("env_") or is_environ_get:
                    names.add(str(node.args[0].value))
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" \
                    and isinstance(node.slice, ast.Constant):
                names.add(str(node.slice.value))
    names |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", (ROOT / "scripts" / "docker-entrypoint").read_text()))
    return frozenset(names)


@cache
def entrypoint_commands() -> frozenset[str]:
    text = (ROOT / "scripts" / "docker-entrypoint").read_text()
    return frozenset(re.findall(r"^\s*([a-z][a-z-]*)\)\s*$", text, flags=re.MULTILINE))


def _management_commands_in(text: str) -> set[str]:
    return set(re.findall(r"manage\.py\s+([a-z_]+)", text))


def _dockerignored(path: str) -> bool:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return any(fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/") for pattern in patterns)


# -- Dockerfile -----------------------------------------------------------------------------------------


def test_the_image_is_built_in_stages_on_slim_python():
    _, stages = dockerfile()
    assert len(stages) >= 2
    assert all(re.fullmatch(r"python:3\.11-slim(-\w+)?", stage.base) for stage in stages)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11"
    runtime = _runtime()
    # The runtime stage installs nothing: it takes the virtualenv and app from the build stage.
    assert not [item for item in runtime.all("RUN") if "pip" in item.arguments]
    names = {stage.name for stage in stages}
    assert {source for source, _, _ in _copies(runtime)} <= names


def test_it_runs_as_a_user_that_is_not_root():
    users = _runtime().all("USER")
    assert users and users[-1].arguments.strip() not in ("root", "0", "0:0")
    assert any("useradd" in item.arguments and users[-1].arguments.strip() in item.arguments
               for item in _runtime().all("RUN"))


def test_every_file_it_copies_exists_and_reaches_the_build_context():
    for stage in dockerfile()[1]:
        for source_stage, sources, _ in _copies(stage):
            if source_stage is not None:
                continue
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the project"
                assert not _dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    # Every package of the project is copied (a new app must not be forgotten).
    copied = {source for stage in dockerfile()[1] for _, sources, _ in _copies(stage) for source in sources}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {name.rstrip("*") for name in packages["include"]} <= copied


def test_static_files_are_collected_at_build_time_for_production():
    build_runs = [item.arguments for stage in dockerfile()[1][:-1] for item in stage.all("RUN")]
    collect = [run for run in build_runs if "manage.py collectstatic" in run]
    assert collect and "DEBUG=false" in collect[0]  # the hashed, compressed files whitenoise serves
    assert any(source == "build" and "/app" in sources for source, sources, _ in _copies(_runtime()))


def test_the_settings_load_with_only_what_the_build_gives_collectstatic():
    """The build has no configuration but the variables on its RUN line: a setting that becomes
    required in production must not break building the image."""
    build_runs = [item.arguments for stage in dockerfile()[1][:-1] for item in stage.all("RUN")]
    line = next(run for run in build_runs if "manage.py collectstatic" in run)
    assignments = dict(token.split("=", 1) for token in shlex.split(line.split("python manage.py")[0]))
    environment = {name: value for name, value in os.environ.items() if name in HOST_VARIABLES}
    build_env = {name: value for name, value in _env(dockerfile()[1][0]).items() if name != "PATH"}
    environment.update(build_env, **assignments, DJANGO_SETTINGS_MODULE="studio.settings")
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,  # noqa: S603
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_its_commands_exist():
    commands = set(get_commands())
    scripts = " ".join(item.arguments for stage in dockerfile()[1] for item in stage.all("RUN"))
    entrypoint = (ROOT / "scripts" / "docker-entrypoint").read_text()
    used = _management_commands_in(scripts) | _management_commands_in(entrypoint)
    assert {"collectstatic", "migrate", "worker"} <= used
    assert used <= commands, used - commands
    runtime = _runtime()
    entry = runtime.all("ENTRYPOINT")[-1].exec_form()
    assert entry and _in_project(entry[0]).is_file() and os.access(_in_project(entry[0]), os.X_OK)
    assert _in_project(entry[0]).relative_to(ROOT).as_posix() in _copied_sources()
    cmd = runtime.all("CMD")[-1].exec_form()
    assert cmd and cmd[0] in entrypoint_commands()
    assert {"web", "worker", "migrate"} <= entrypoint_commands()
    assert "gunicorn studio.wsgi:application --config gunicorn.conf.py" in entrypoint


def test_the_healthcheck_asks_healthz_which_needs_no_login():
    check = _runtime().all("HEALTHCHECK")[-1].arguments
    command = json.loads(check.split("CMD", 1)[1].strip())
    script = _in_project(command[-1])
    assert command[0] == "python" and script.is_file()
    assert script.relative_to(ROOT).as_posix() in _copied_sources()
    assert '"/healthz"' in script.read_text()
    match = resolve("/healthz")
    assert match.url_name == "healthz"
    assert getattr(match.func, "login_required", True) is False


def test_gunicorn_is_a_pinned_dependency_and_reads_its_sizes_from_the_environment():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" in item for item in dependencies), "every dependency is pinned"
    assert any(item.startswith("gunicorn==") for item in dependencies)
    assert any(item.startswith("django-storages[s3]==") for item in dependencies)
    config = (ROOT / "gunicorn.conf.py").read_text()
    for variable in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "PORT"):
        assert variable in variables_read() and variable in config


def test_every_variable_the_image_sets_is_read_by_the_project():
    runtime_env = _env(_runtime())
    unknown = set(runtime_env) - variables_read() - RUNTIME_VARIABLES
    assert not unknown, f"the Dockerfile sets variables nothing reads: {unknown}"
    assert runtime_env["DEBUG"] == "false"
    port = runtime_env["PORT"]
    assert _runtime().all("EXPOSE")[-1].arguments.strip() == port
    assert f"env_int('PORT', {port}" in (ROOT / "gunicorn.conf.py").read_text()


# -- compose.yaml ---------------------------------------------------------------------------------------


EXAMPLE_ENV = {"SECRET_KEY": "compose-test-secret-key-" + "x" * 40, "POSTGRES_PASSWORD": "db-password",
               "MINIO_ROOT_PASSWORD": "minio-password"}


def _interpolate(value: object, env: dict[str, str]) -> object:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, and $$ for a literal $."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise AssertionError(f"compose needs {name}: {argument}")
        return argument or ""

    text = re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", replace, value.replace("$$", "\0"))
    return text.replace("\0", "$")


@cache
def compose_raw() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def compose(env: tuple[tuple[str, str], ...] = tuple(EXAMPLE_ENV.items())) -> dict:
    return _interpolate({key: value for key, value in compose_raw().items() if not key.startswith("x-")},
                        dict(env))


def _studio_services() -> dict[str, dict]:
    return {name: service for name, service in compose()["services"].items() if service.get("build")}


def _image_of(service: dict) -> str:
    return service["image"].split(":")[0]


def test_the_stack_has_web_workers_a_database_and_a_bucket():
    services = compose()["services"]
    assert {"web", "worker", "migrate", "db", "minio", "bucket"} <= set(services)
    assert set(_studio_services()) == {"web", "worker", "migrate"}
    assert _image_of(services["db"]) == "postgres" and _image_of(services["minio"]) == "minio/minio"
    for service in services.values():  # pinned images, never "latest" of someone else's
        if not service.get("build"):
            assert ":" in service["image"] and not service["image"].endswith(":latest")


def test_the_worker_scales():
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker
    assert worker["command"] == ["worker"]
    assert worker["healthcheck"] == {"disable": True}  # the image's HTTP check is the web's


def test_every_studio_command_and_variable_exists():
    for name, service in _studio_services().items():
        assert service["command"][0] in entrypoint_commands(), name
        unknown = set(service["environment"]) - variables_read()
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"
    web = compose()["services"]["web"]
    assert web["environment"]["MIGRATE_ON_START"] == "false"  # the one-shot migrate service runs them


def test_third_party_services_get_only_their_own_variables():
    for name, service in compose()["services"].items():
        if service.get("build"):
            continue
        known = IMAGE_VARIABLES[_image_of(service).split(":")[0].removesuffix("-bookworm")]
        assert set(service.get("environment", {})) <= known, name


def test_the_database_url_names_the_database_service():
    services = compose()["services"]
    url = urlsplit(services["web"]["environment"]["DATABASE_URL"])
    db = services["db"]["environment"]
    assert (url.scheme, url.hostname, url.port) == ("postgres", "db", 5432)
    assert (url.username, url.password, url.path.lstrip("/")) == (
        db["POSTGRES_USER"], db["POSTGRES_PASSWORD"], db["POSTGRES_DB"])


def test_the_bucket_is_created_private_with_the_apps_name_and_keys():
    services = compose()["services"]
    env = services["web"]["environment"]
    minio = services["minio"]
    endpoint = urlsplit(env["AWS_S3_ENDPOINT_URL"])
    assert endpoint.hostname == "minio" and f"{endpoint.port}:{endpoint.port}" in minio["ports"][0]
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        minio["environment"]["MINIO_ROOT_USER"], minio["environment"]["MINIO_ROOT_PASSWORD"])
    script = " ".join(services["bucket"]["command"])
    bucket = env["AWS_STORAGE_BUCKET_NAME"]
    assert f"mc mb --ignore-existing studio/{bucket}" in script  # first start only; re-runs are no-ops
    assert f"mc anonymous set none studio/{bucket}" in script
    assert "http://minio:9000" in script
    public = urlsplit(env["STUDIO_S3_PUBLIC_URL"])
    assert any(port.split(":")[-2] == str(public.port) for port in minio["ports"])


def test_the_web_port_is_the_one_gunicorn_listens_on():
    web = compose()["services"]["web"]
    assert [port.rsplit(":", 1)[1] for port in web["ports"]] == [_env(_runtime())["PORT"]]


def test_dependencies_wait_for_what_they_need():
    services = compose()["services"]
    volumes = set(compose()["volumes"])
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on a missing {dependency}"
            target = services[dependency]
            if rule["condition"] == "service_healthy":
                assert "test" in target["healthcheck"], dependency
            elif rule["condition"] == "service_completed_successfully":
                assert target["restart"] == "no", dependency
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in volumes
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["depends_on"]["bucket"]["condition"] == "service_completed_successfully"


def _example_env_names() -> set[str]:
    return {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
            if "=" in line and not line.startswith("#")}


def test_every_required_variable_is_in_the_example_env_file():
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "compose.yaml").read_text()))
    assert required and required <= _example_env_names()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    with pytest.raises(AssertionError, match="compose needs"):
        compose(env=())


def _example_env() -> dict[str, str]:
    """.env.example as an operator fills it in: its values, and the secrets it leaves blank."""
    values = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                  if "=" in line and not line.startswith("#"))
    return {**values, **{name: value for name, value in EXAMPLE_ENV.items() if not values.get(name)}}


def _start_web(web_environment: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    # Only what a container would have: nothing of this test process's own configuration.
    environment = {name: value for name, value in os.environ.items() if name in HOST_VARIABLES}
    environment.update(web_environment, DJANGO_SETTINGS_MODULE="studio.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("env_file", ["secrets only", ".env.example"])
def test_the_settings_start_with_the_composed_environment(env_file):
    """The web's environment, as compose hands it over, loads the settings and selects the bucket."""
    env = EXAMPLE_ENV if env_file == "secrets only" else _example_env()
    web = compose(env=tuple(env.items()))["services"]["web"]["environment"]
    code = ("import json; from django.conf import settings as s; "
            "print(json.dumps([s.DEBUG, s.STORAGES['default']['BACKEND'], s.DATABASES['default']['HOST'], "
            "s.SECURE_SSL_REDIRECT]))")
    result = _start_web(web, code)
    assert result.returncode == 0, result.stderr
    # The trial over plain HTTP on localhost must not be redirected to an HTTPS nobody serves.
    assert json.loads(result.stdout) == [False, "gallery.storage.PrivateS3Storage", "db", env_file == "secrets only"]


def test_the_composed_production_settings_pass_check_deploy():
    web = compose()["services"]["web"]["environment"]
    code = ("import django; django.setup(); from django.core.management import call_command; "
            "call_command('check', deploy=True, fail_level='WARNING')")
    result = _start_web(web, code)
    assert result.returncode == 0, result.stderr


# -- the guide ----------------------------------------------------------------------------------------


def test_every_command_the_guides_name_exists():
    commands = set(get_commands())
    for document in ("README.md", "docs/deploy.md"):
        named = _management_commands_in((ROOT / document).read_text())
        assert named <= commands, f"{document} names missing commands: {named - commands}"


def test_the_deploy_guide_covers_what_an_operator_needs():
    guide = (ROOT / "docs" / "deploy.md").read_text().lower()
    for topic in ("one server", "scale", "proxy", "backup", "upgrade", "migrat", "secret_key", "openai_api_key",
                  "storage_migrate", "pg_dump", "mc mirror"):
        assert topic in guide, topic


def test_every_variable_the_guides_list_is_read_by_the_project():
    for document in ("README.md", "docs/deploy.md"):
        rows = [line for line in (ROOT / document).read_text().splitlines() if line.startswith("| `")]
        listed = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
        assert listed, document
        # Read by the app, or by compose from .env (the database's and MinIO's passwords).
        unknown = listed - variables_read() - _example_env_names()
        assert not unknown, f"{document} lists variables nothing reads: {unknown}"


# -- the container's commands, run here as the image runs them ------------------------------------


def _container_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name in HOST_VARIABLES}
    environment.update(_env(_runtime()))
    environment.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "SECRET_KEY": "container-test-key",
        "ALLOWED_HOSTS": "studio.example.com", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"), "PORT": str(_free_port()), "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2", **overrides,
    })
    return environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_web_command_migrates_serves_and_passes_the_healthcheck(tmp_path):
    environment = _container_environment(tmp_path)
    healthcheck = [sys.executable, str(ROOT / "scripts" / "healthcheck")]
    web = subprocess.Popen([str(ROOT / "scripts" / "docker-entrypoint"), "web"], cwd=ROOT, env=environment,  # noqa: S603
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(120):
            if subprocess.run(healthcheck, env=environment, capture_output=True, check=False).returncode == 0:  # noqa: S603
                break
            assert web.poll() is None, web.stdout.read().decode()
            time.sleep(0.5)
        else:
            pytest.fail("the healthcheck never passed")
    finally:
        os.killpg(web.pid, 15)
        output = web.communicate(timeout=30)[0].decode()
    assert "Applying studio.0001" in output  # MIGRATE_ON_START defaults to true
    assert "Booting worker" in output and "gthread" in output


def test_a_bad_gunicorn_size_stops_the_web_naming_it(tmp_path):
    environment = _container_environment(tmp_path, WEB_CONCURRENCY="many", MIGRATE_ON_START="false")
    result = subprocess.run([str(ROOT / "scripts" / "docker-entrypoint"), "web"], cwd=ROOT,  # noqa: S603
                            env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and "WEB_CONCURRENCY='many' is invalid" in result.stdout + result.stderr


def test_the_healthcheck_fails_when_nothing_answers(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "healthcheck")],  # noqa: S603
                            env=_container_environment(tmp_path), capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "healthz:" in result.stderr
