"""`farmstream apikey create|revoke|list`: API keys scoped to farms."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import psycopg
from psycopg import errors

from api.config import ApiSettings
from api.keys import create_key, list_keys, revoke_key, unknown_farms
from farmstream.cli import CommandError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "apikey",
        help="Create, revoke or list API keys of the REST API.",
        description="Manage API keys in the database named by FARMSTREAM_DATABASE_URL. "
        "Only a salted hash of each key is stored.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="Create a key and print it once.")
    create.add_argument("--name", required=True, help="Who or what uses the key; recorded as the actor.")
    create.add_argument(
        "--farm",
        dest="farms",
        action="append",
        required=True,
        metavar="FARM",
        help="Farm id the key may read; repeat for several farms.",
    )
    create.add_argument(
        "--allow-unknown-farm",
        action="store_true",
        help="Accept farm ids not yet in the farms table (a farm that has not sent data yet).",
    )
    create.set_defaults(func=_create)

    revoke = actions.add_parser("revoke", help="Revoke a key; requests with it get 401 at once.")
    revoke.add_argument("key_id", metavar="KEY_ID", help="Key id as shown by `farmstream apikey list`.")
    revoke.set_defaults(func=_revoke)

    listing = actions.add_parser("list", help="List keys, active and revoked, without their secrets.")
    listing.set_defaults(func=_list)


@contextmanager
def _connect() -> Iterator[psycopg.Connection[Any]]:
    settings = ApiSettings()
    try:
        with psycopg.connect(settings.database_url, connect_timeout=10) as connection:
            yield connection
    except psycopg.OperationalError as error:
        raise CommandError(
            f"cannot reach the database ({error}); start PostgreSQL or check FARMSTREAM_DATABASE_URL"
        ) from error
    except errors.UndefinedTable as error:
        raise CommandError(
            f"a table of the API is missing ({error.diag.message_primary}); run `farmstream migrate` first"
        ) from error


def _write_lines(lines: list[str]) -> None:
    """Print lines; a reader that closed the pipe early (``| head``) ends the output quietly."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null, so the interpreter's final flush does not raise again.
        try:
            descriptor = sys.stdout.fileno()
        except (AttributeError, ValueError, io.UnsupportedOperation):
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, descriptor)
        os.close(devnull)


def _create(arguments: argparse.Namespace) -> int:
    name = arguments.name.strip()
    if not name:
        raise CommandError("invalid --name: it is empty; name the person or system that uses the key")
    farms = list(dict.fromkeys(farm.strip() for farm in arguments.farms))
    if "" in farms:
        raise CommandError("invalid --farm: an empty farm id was given")
    with _connect() as connection:
        missing = unknown_farms(connection, farms)
        if missing and not arguments.allow_unknown_farm:
            raise CommandError(
                f"farm {', '.join(missing)} not found in the farms table; check the id "
                "or pass --allow-unknown-farm for a farm that has not sent data yet"
            )
        key_id, key = create_key(connection, name, farms)
    _write_lines(
        [
            f"key_id: {key_id}",
            f"key: {key}",
            "Store the key now: it is not stored and cannot be shown again.",
        ]
    )
    return 0


def _revoke(arguments: argparse.Namespace) -> int:
    with _connect() as connection:
        revoked = revoke_key(connection, arguments.key_id)
    if not revoked:
        raise CommandError(
            f"no active key with id {arguments.key_id!r}; `farmstream apikey list` shows the ids"
        )
    _write_lines([f"revoked {arguments.key_id}"])
    return 0


def _list(arguments: argparse.Namespace) -> int:
    with _connect() as connection:
        keys = list_keys(connection)
    lines = [f"{'KEY_ID':<14} {'STATUS':<8} {'CREATED':<20} {'NAME':<24} FARMS"]
    for key in keys:
        status = "revoked" if key.revoked_at is not None else "active"
        created = key.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{key.key_id:<14} {status:<8} {created:<20} {key.name:<24} {','.join(key.farm_ids)}")
    _write_lines(lines)
    return 0
