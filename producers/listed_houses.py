"""The house numbers each farm's portal account has listed, kept in a file across scraper restarts.

The scraper reports a house as ``missing`` when an earlier cycle listed it and the latest house list
lacks it. Without this file a restart loses the earlier lists, so a house that vanished while the
scraper was down would never be reported. Each farm's entry names its account by a hash of the
portal address and the user name, so another account of the same farm id starts from an empty list.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


def account_key(portal_url: str, username: str) -> str:
    """Return the name under which a portal account's houses are kept: a hash, so no user name is stored."""
    return hashlib.sha256(f"{portal_url}\n{username}".encode()).hexdigest()[:16]


class ListedHousesFile:
    """A JSON file of the houses each farm's account listed, rewritten whenever a farm's list grows.

    The farms' coordinators scrape concurrently, so reads and writes take a lock. A file that cannot
    be read as this format is moved aside with an error log, and the scraper starts from empty lists.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._farms: dict[str, dict[str, Any]] = self._read()

    def houses(self, farm_id: str, account: str) -> set[int]:
        """Return the houses the farm's account listed before, or none for another account."""
        with self._lock:
            entry = self._farms.get(farm_id)
            if entry is None or entry["account"] != account:
                return set()
            return set(entry["houses"])

    def save(self, farm_id: str, account: str, houses: set[int]) -> None:
        """Record the houses a farm's account has listed; after a failed write, the next one writes all."""
        with self._lock:
            self._farms[farm_id] = {"account": account, "houses": sorted(houses)}
            document = {"version": FORMAT_VERSION, "farms": self._farms}
            partial = self.path.with_name(self.path.name + ".partial")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                partial.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
                os.replace(partial, self.path)
            except OSError as error:
                logger.error(
                    "cannot write the listed-houses file; a restart would lose the houses listed since",
                    extra={"path": str(self.path), "farm": farm_id, "error": str(error)},
                )

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        except OSError as error:
            logger.error(
                "cannot read the listed-houses file; houses that vanished before this start are not reported",
                extra={"path": str(self.path), "error": str(error)},
            )
            return {}
        try:
            return _farms_of(json.loads(text))
        except ValueError as error:
            aside = self.path.with_name(self.path.name + ".invalid")
            os.replace(self.path, aside)
            logger.error(
                "listed-houses file invalid, moved aside; houses that vanished before now are not reported",
                extra={"path": str(self.path), "moved_to": str(aside), "error": str(error)},
            )
            return {}


def _farms_of(document: Any) -> dict[str, dict[str, Any]]:
    """Return the farms of a parsed file, or raise ValueError naming what does not match the format."""
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise ValueError(f"expected an object with version {FORMAT_VERSION}")
    farms = document.get("farms")
    if not isinstance(farms, dict):
        raise ValueError("expected 'farms' to be an object")
    for farm_id, entry in farms.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("account"), str)
            or not isinstance(entry.get("houses"), list)
            or not all(type(house) is int and house >= 1 for house in entry["houses"])
        ):
            raise ValueError(f"farm {farm_id!r}: expected an account and a list of house numbers")
    return farms
