"""Unit tests of the routing configuration file: TOML and JSON, one problem line per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifier.config import EmailChannelConfig, WebhookChannelConfig, load_config
from notifier.exceptions import NotifierConfigError

VALID_TOML = """
[channels.ops]
type = "webhook"
url = "http://127.0.0.1:9/hook"
secret_env = "TEST_WEBHOOK_SECRET"

[channels.grower]
type = "email"
host = "127.0.0.1"
port = 2525
username = "alerts"
password_env = "TEST_SMTP_PASSWORD"
from = "farmstream <alerts@farm.test>"
to = ["grower@farm.test"]

[[rules]]
name = "critical"
min_severity = "critical"
channels = ["ops", "grower"]

[[rules]]
name = "north-ridge"
farms = ["north-ridge"]
states = ["open"]
channels = ["ops"]

[retry]
max_attempts = 4
initial_delay_seconds = 1
"""

ENVIRONMENT = {"TEST_WEBHOOK_SECRET": "hook-secret", "TEST_SMTP_PASSWORD": "smtp-secret"}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, environ: dict[str, str]) -> list[str]:
    with pytest.raises(NotifierConfigError) as caught:
        load_config(path, environ)
    return caught.value.problems


def test_valid_toml_loads_with_secrets(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "notifier.toml", VALID_TOML), ENVIRONMENT)
    assert isinstance(config.routing.channels["ops"], WebhookChannelConfig)
    email = config.routing.channels["grower"]
    assert isinstance(email, EmailChannelConfig)
    assert email.from_address == "farmstream <alerts@farm.test>"
    assert [rule.name for rule in config.routing.rules] == ["critical", "north-ridge"]
    assert config.routing.retry.max_attempts == 4
    assert config.secrets["ops"].get_secret_value() == "hook-secret"
    assert config.secrets["grower"].get_secret_value() == "smtp-secret"


def test_valid_json_loads(tmp_path: Path) -> None:
    document = {
        "channels": {"ops": {"type": "webhook", "url": "https://127.0.0.1/hook"}},
        "rules": [{"name": "all", "channels": ["ops"]}],
    }
    config = load_config(_write(tmp_path, "notifier.json", json.dumps(document)), {})
    assert config.routing.rules[0].farms == "*"
    assert config.routing.rules[0].states == ["open", "reminder", "resolved"]
    assert dict(config.secrets) == {}


def test_schema_problems_listed_one_per_line(tmp_path: Path) -> None:
    text = VALID_TOML.replace('min_severity = "critical"', 'min_severity = "high"').replace(
        "port = 2525", "port = 70000"
    )
    problems = _problems(_write(tmp_path, "notifier.toml", text), ENVIRONMENT)
    assert len(problems) == 2
    assert any(line.startswith("rules[0].min_severity: Input should be") for line in problems)
    assert any(line.startswith("channels.grower.port: Input should be less than") for line in problems)


def test_reference_problems_listed_one_per_line(tmp_path: Path) -> None:
    text = (
        VALID_TOML.replace('channels = ["ops"]', 'channels = ["pager"]')
        .replace('url = "http://127.0.0.1:9/hook"', 'url = "ftp://127.0.0.1/hook"')
        .replace('name = "north-ridge"', 'name = "critical"')
    )
    problems = _problems(_write(tmp_path, "notifier.toml", text), ENVIRONMENT)
    assert len(problems) == 3
    assert any("unknown channel 'pager'" in line for line in problems)
    assert any(line.startswith("channels.ops.url: invalid webhook URL") for line in problems)
    assert any("duplicate rule name 'critical'" in line for line in problems)


def test_missing_secret_variable_named(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "notifier.toml", VALID_TOML), {"TEST_WEBHOOK_SECRET": "x"})
    assert problems == [
        "channels.grower.password_env: environment variable TEST_SMTP_PASSWORD is not set or empty:"
        " export it, or remove password_env"
    ]


def test_pasted_secret_never_echoed(tmp_path: Path) -> None:
    text = VALID_TOML.replace('password_env = "TEST_SMTP_PASSWORD"', 'password = "hunter2-secret"')
    with pytest.raises(NotifierConfigError) as caught:
        load_config(_write(tmp_path, "notifier.toml", text), ENVIRONMENT)
    assert "channels.grower.password: Extra inputs are not permitted" in caught.value.problems
    assert "hunter2-secret" not in str(caught.value)


def test_username_without_password_rejected(tmp_path: Path) -> None:
    text = VALID_TOML.replace('password_env = "TEST_SMTP_PASSWORD"\n', "")
    problems = _problems(_write(tmp_path, "notifier.toml", text), ENVIRONMENT)
    assert problems == [
        "channels.grower: username and password_env go together: set both to log in, or neither"
    ]


def test_invalid_toml_reported(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "notifier.toml", "[channels\n"), {})
    assert len(problems) == 1
    assert problems[0].startswith("invalid TOML:")


def test_unknown_file_type_rejected(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, "notifier.yaml", "channels: {}"), {})
    assert problems == ["unsupported file type '.yaml': use a .toml or .json file"]


def test_missing_file_reported(tmp_path: Path) -> None:
    problems = _problems(tmp_path / "absent.toml", {})
    assert problems == ["cannot read the file: No such file or directory"]


def test_lease_must_exceed_timeouts(tmp_path: Path) -> None:
    text = VALID_TOML.replace("initial_delay_seconds = 1", "initial_delay_seconds = 1\nlease_seconds = 5")
    problems = _problems(_write(tmp_path, "notifier.toml", text), ENVIRONMENT)
    assert len(problems) == 1
    assert problems[0].startswith("retry.lease_seconds: 5.0 must exceed the longest channel timeout 10.0")


def test_ca_file_checked(tmp_path: Path) -> None:
    text = VALID_TOML.replace("port = 2525", f'port = 2525\nca_file = "{tmp_path / "absent.pem"}"')
    problems = _problems(_write(tmp_path, "notifier.toml", text), ENVIRONMENT)
    assert problems == [
        "channels.grower.ca_file: set security to starttls or ssl, or remove ca_file",
        f"channels.grower.ca_file: file {str(tmp_path / 'absent.pem')!r} not found",
    ]


def test_unknown_alert_rule_named(tmp_path: Path) -> None:
    document = {
        "channels": {"ops": {"type": "webhook", "url": "https://127.0.0.1/hook"}},
        "rules": [{"name": "gas", "alert_rules": ["ammonia_over_limit", "amonia_high"], "channels": ["ops"]}],
    }
    problems = _problems(_write(tmp_path, "notifier.json", json.dumps(document)), {})
    assert len(problems) == 1
    assert problems[0].startswith("rules[0].alert_rules: unknown alert rule 'amonia_high': use one of: ")
