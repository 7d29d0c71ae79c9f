"""The house numbers each farm's portal account has listed, kept in a file across scraper restarts.

The scraper reports a house as ``missing`` when an earlier cycle listed it and the latest house list
lacks it. Without this file a restart loses the earlier lists, so a house that vanished while the
scraper was down would never be reported. Each farm keeps one list per account, named by a hash of
the portal address and the user name: another account of the same farm id starts from an empty list,
and switching back finds the old one. The file belongs to one scraper process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


def account_key(portal_url: str, username: str) -> str:
    """Return the name under which a portal account's houses are kept: a hash, so no user name is stored."""
    return hashlib.sha256(f"{portal_url}\n{username}".encode()).hexdigest()[:16]


class ListedHousesFile:
    """A JSON file of the houses each farm's accounts listed, rewritten whenever a list changes.

    The farms' coordinators scrape concurrently, so reads and writes take a lock. A file that is not
    in this format is moved aside with an error log and the lists start empty. A farm entry that is
    not in this format is dropped alone. A file that exists but cannot be read is never overwritten.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._writable = True
        self._farms: dict[str, dict[str, list[int]]] = self._read()

    def houses(self, farm_id: str, account: str) -> set[int]:
        """Return the houses the farm's account listed before, or none for an account never seen."""
        with self._lock:
            return set(self._farms.get(farm_id, {}).get(account, []))

    def save(self, farm_id: str, account: str, houses: set[int]) -> bool:
        """Record the houses a farm's account has listed; return whether the file now contains them."""
        with self._lock:
            self._farms.setdefault(farm_id, {})[account] = sorted(houses)
            if not self._writable:
                return False
            document = {"version": FORMAT_VERSION, "farms": self._farms}
            try:
                self._write(json.dumps(document, indent=1, sort_keys=True) + "\n")
            except OSError as error:
                logger.error(
                    "failed to write the listed-houses file, tried again next cycle",
                    extra={"path": str(self.path), "farm": farm_id, "error": str(error)},
                )
                return False
            return True

    def _write(self, text: str) -> None:
        # A new temporary file per write (never a fixed name an old link could take over), synced
        # before it replaces the file, so a crash leaves the old file or the new one, never half.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _read(self) -> dict[str, dict[str, list[int]]]:
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return {}  # No file yet, so the first save creates it.
        except OSError as error:
            self._writable = False
            logger.error(
                "failed to read the listed-houses file, left as it is: houses that vanished before "
                "this start are not reported, and new lists are kept in memory only",
                extra={"path": str(self.path), "error": str(error)},
            )
            return {}
        try:
            document = json.loads(data.decode())
            if not isinstance(document, dict) or type(document.get("version")) is not int:
                raise ValueError("expected an object with a version number")
            if document["version"] != FORMAT_VERSION or not isinstance(document.get("farms"), dict):
                raise ValueError(f"expected version {FORMAT_VERSION} and an object of farms")
        except (ValueError, RecursionError) as error:
            self._move_aside(str(error) or type(error).__name__)
            return {}
        farms: dict[str, dict[str, list[int]]] = {}
        for farm_id, entry in document["farms"].items():
            lists = self._lists(farm_id, entry)
            if lists:
                farms[farm_id] = lists
        return farms

    def _lists(self, farm_id: str, entry: Any) -> dict[str, list[int]]:
        """Return a farm's lists by account, or none with an error log when the entry is malformed."""
        if isinstance(entry, dict) and all(
            isinstance(account, str)
            and isinstance(houses, list)
            and all(type(house) is int and house >= 1 for house in houses)
            for account, houses in entry.items()
        ):
            return entry
        logger.error(
            "listed-houses entry invalid, dropped; that farm's vanished houses are not reported",
            extra={"path": str(self.path), "farm": farm_id},
        )
        return {}

    def _move_aside(self, reason: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.invalid-{stamp}")
        try:
            os.replace(self.path, aside)
        except OSError as error:
            self._writable = False
            logger.error(
                "listed-houses file invalid and moving it aside failed, left as it is: new lists are "
                "kept in memory only",
                extra={"path": str(self.path), "error": f"{reason}; {error}"},
            )
            return
        logger.error(
            "listed-houses file invalid, moved aside; houses that vanished before now are not reported",
            extra={"path": str(self.path), "moved_to": str(aside), "error": reason},
        )
