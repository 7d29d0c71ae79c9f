"""Unit tests of docker-compose.yml, which cannot run on the development machines.

They parse the file and check it against the code. Every farmstream service must run a real CLI
subcommand with valid options and set only FARMSTREAM_* variables that some settings class reads.
Its ports must match the settings defaults, the local stack and the Prometheus targets.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from farmstream.cli import COMMAND_MODULES, build_parser
from farmstream.config import StackSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
FARMSTREAM_SERVICES = {name: service for name, service in SERVICES.items() if service.get("build") == "."}
CONFIG_MODULES = (
    "farmstream.config",
    "farmstream.stack.config",
    "producers.config",
    "stream_processors.config",
    "sinks.config",
    "api.config",
    "notifier.config",
    "simulator.config",
    "migrations",
)
# The local stack's default ports, which the compose file publishes on the host as well.
LOCAL_KAFKA_PORT = StackSettings.model_fields["kafka_port"].default
LOCAL_POSTGRES_PORT = StackSettings.model_fields["postgres_port"].default
# Read by the command line itself (farmstream/cli.py) rather than by a settings class.
CLI_VARIABLES = frozenset({"FARMSTREAM_LOG_LEVEL"})
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z0-9_]+)(?::?(?P<kind>[-?])(?P<text>[^}]*))?\}")
# Metrics and API ports of the services, as the settings classes default them.
SERVICE_PORT_VARIABLES = {
    "scrape": "FARMSTREAM_SCRAPER_METRICS_PORT",
    "agents": "FARMSTREAM_AGENTS_METRICS_PORT",
    "sink": "FARMSTREAM_SINK_METRICS_PORT",
    "notifier": "FARMSTREAM_NOTIFIER_METRICS_PORT",
    "api": "FARMSTREAM_API_PORT",
}


def _settings_classes() -> list[type[BaseSettings]]:
    for name in CONFIG_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            # A package that has no settings module yet adds no variable.
            if error.name != name:
                raise
    found: list[type[BaseSettings]] = []
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.split(".")[0] != "pydantic_settings"]


def _known_variables() -> dict[str, Any]:
    """Return every FARMSTREAM_* variable that a settings class reads, with its default."""
    variables: dict[str, Any] = {}
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        for field_name, field in cls.model_fields.items():
            variables[prefix + field_name.upper()] = field.default
    return variables


def _interpolate(value: str) -> str:
    """Replace compose's ${NAME:-default} by the default and ${NAME:?message} by a placeholder."""
    return INTERPOLATION.sub(
        lambda match: match["text"] if match["kind"] == "-" else f"<{match['name'].lower()}>", value
    )


def _environment(service: dict[str, Any]) -> dict[str, str]:
    return {key: _interpolate(str(value)) for key, value in (service.get("environment") or {}).items()}


def _container_ports(service: dict[str, Any]) -> set[int]:
    ports = {int(str(port)) for port in service.get("expose", [])}
    ports.update(int(str(mapping).rsplit(":", 1)[1]) for mapping in service.get("ports", []))
    return ports


def _published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Return container port -> host port for each published port."""
    published = {}
    for mapping in service.get("ports", []):
        parts = str(mapping).split(":")
        published[int(parts[-1])] = int(parts[-2])
    return published


def test_farmstream_services_present() -> None:
    assert set(FARMSTREAM_SERVICES) >= {"scrape", "agents", "sink", "api", "notifier", "simulator"}
    assert SERVICES["simulator"]["profiles"] == ["demo"]
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize("name", sorted(FARMSTREAM_SERVICES))
def test_service_command_exists_in_cli(name: str) -> None:
    command = FARMSTREAM_SERVICES[name]["command"]

    assert command[0] == "farmstream"
    assert command[1] in COMMAND_MODULES
    try:
        arguments = build_parser().parse_args(command[1:])
    except SystemExit as error:
        pytest.fail(f"service {name}: `{' '.join(command)}` is rejected by the CLI (exit {error.code})")
    assert arguments.command == command[1]


@pytest.mark.parametrize("name", sorted(FARMSTREAM_SERVICES))
def test_service_environment_known(name: str) -> None:
    known = _known_variables()

    environment = _environment(FARMSTREAM_SERVICES[name])

    assert environment, f"service {name} sets no environment"
    unknown = sorted(variable for variable in environment if variable not in known.keys() | CLI_VARIABLES)
    assert unknown == [], f"service {name} sets variables that no settings class reads"


def test_cli_reads_its_variables() -> None:
    source = (ROOT / "farmstream" / "cli.py").read_text()

    assert all(variable in source for variable in CLI_VARIABLES)


def test_service_ports_match_settings() -> None:
    known = _known_variables()
    for name, variable in SERVICE_PORT_VARIABLES.items():
        service = FARMSTREAM_SERVICES[name]
        port = int(_environment(service).get(variable, known[variable]))

        assert port == known[variable], f"{name}: {variable} differs from its default"
        assert _container_ports(service) == {port}, f"{name} exposes other ports than {variable}"


def test_bootstrap_names_kafka_listener() -> None:
    kafka = _environment(SERVICES["kafka"])
    advertised = dict(listener.split("://", 1) for listener in kafka["KAFKA_ADVERTISED_LISTENERS"].split(","))
    for name, service in FARMSTREAM_SERVICES.items():
        assert _environment(service)["FARMSTREAM_KAFKA_BOOTSTRAP"] == advertised["PLAINTEXT"], name
    assert advertised["EXTERNAL"] == f"127.0.0.1:{LOCAL_KAFKA_PORT}"
    assert _published_ports(SERVICES["kafka"]) == {LOCAL_KAFKA_PORT: LOCAL_KAFKA_PORT}


def test_database_url_names_timescaledb() -> None:
    database = _environment(SERVICES["timescaledb"])
    for name, service in FARMSTREAM_SERVICES.items():
        url = urlsplit(_environment(service)["FARMSTREAM_DATABASE_URL"])

        assert (url.hostname, url.port) == ("timescaledb", 5432), name
        assert url.username == database["POSTGRES_USER"], name
        assert url.path == "/" + database["POSTGRES_DB"], name
    assert _published_ports(SERVICES["timescaledb"]) == {5432: LOCAL_POSTGRES_PORT}


def test_prometheus_targets_exposed_ports() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    exposed = {port for service in FARMSTREAM_SERVICES.values() for port in _container_ports(service)}

    target_ports = {
        int(target.rsplit(":", 1)[1])
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }

    assert target_ports, "prometheus.yml names no target"
    assert target_ports <= exposed


def test_compose_prometheus_targets_services() -> None:
    command = SERVICES["prometheus"]["command"]
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in command
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.compose.yml").read_text())

    targets = [
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]

    assert targets, "prometheus.compose.yml names no target"
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host in FARMSTREAM_SERVICES, f"{target}: {host} is not a farmstream service"
        assert int(port) in _container_ports(FARMSTREAM_SERVICES[host]), (
            f"{target}: port not exposed by {host}"
        )


def test_mounted_deploy_files_exist() -> None:
    mounts = [
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if str(volume).startswith("./")
    ]

    assert mounts
    for mount in mounts:
        assert (ROOT / mount).exists(), f"{mount} is mounted but missing"
    grafana = ROOT / "deploy" / "grafana" / "provisioning"
    datasource = yaml.safe_load((grafana / "datasources" / "timescaledb.yml").read_text())
    assert datasource["datasources"][0]["url"] == "timescaledb:5432"
    provider = yaml.safe_load((grafana / "dashboards" / "dashboards.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_service_volumes_made_in_image() -> None:
    # A named volume starts out with the owner of its folder in the image, and a folder missing
    # there is made by root, so the service user could not write to it.
    mkdir_line = re.search(r"^RUN mkdir -p (.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    targets = {
        str(volume).split(":")[1]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if str(volume).split(":")[1].startswith("/var/lib/farmstream")
    }

    assert mkdir_line is not None
    assert targets == {"/var/lib/farmstream/agents", "/var/lib/farmstream/scraper"}
    assert targets <= set(mkdir_line.group(1).split())
