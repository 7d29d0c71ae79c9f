"""Tests of the shared stack fixtures in tests/conftest.py when the stack is unreachable.

Each case runs one stack-backed test in a child pytest aimed at a closed loopback port (9) and
checks that it errors with the hint to start the stack instead of being skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("variable", "value", "test", "component"),
    [
        (
            "FARMSTREAM_KAFKA_BOOTSTRAP",
            "127.0.0.1:9",
            "tests/farmstream/test_stack_services.py::test_topic_creation_is_idempotent",
            "Kafka broker at 127.0.0.1:9",
        ),
        (
            "FARMSTREAM_DATABASE_URL",
            "postgresql://farmstream:farmstream@127.0.0.1:9/farmstream",
            "tests/farmstream/test_stack_services.py::test_postgres_write_then_read",
            "PostgreSQL at 127.0.0.1:9",
        ),
    ],
)
def test_unreachable_stack_fails_test(variable: str, value: str, test: str, component: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", test],
        cwd=ROOT,
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1, result.stdout
    assert component in result.stdout
    assert "farmstream stack up" in result.stdout
    assert "1 error" in result.stdout
    assert "skipped" not in result.stdout
