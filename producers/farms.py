"""Portal accounts to scrape: one per farm, read from a JSON farms file or from single-account settings.

File format::

    {"portal_url": "http://127.0.0.1:8800/",
     "farms": [{"farm_id": "farm-a", "username": "...", "password": "...", "timezone": "America/Chicago"},
               {"farm_id": "farm-b", "username": "...", "password": "...", "login_style": "api"}]}

A farm entry may carry its own ``portal_url``. ``timezone`` is an IANA name (default ``UTC``).
``login_style`` selects the portal's login and path style (default ``classic``):

* ``classic``: login on ``{portal_url}Latest/Services/AllServices.svc/Login``, then service calls on
  ``{WebServerUrl}Services/AllServices.svc/{Method}`` with the ``userToken`` and
  ``farmConnectionToken`` headers and the ``ASP.NET_SessionId`` cookie.
* ``api``: the newer web UI's style, with login on ``{portal_url}api/Login``, then service calls on
  ``{WebServerUrl}{Method}`` (``WebServerUrl`` defaults to ``{portal_url}api/``) with an
  ``Authorization: Bearer`` header that carries the login's ``UserToken``.

Passwords are kept as ``SecretStr`` and never logged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

LoginStyle = Literal["classic", "api"]
LOGIN_STYLES: tuple[str, ...] = get_args(LoginStyle)


class FarmsFileError(ValueError):
    """The farms file is missing, not JSON, or does not match the format."""


def normalise_portal_url(url: str) -> str:
    """Return the portal base URL with exactly one trailing slash."""
    return url.strip().rstrip("/") + "/"


def check_timezone(name: str) -> str:
    """Return an IANA time-zone name unchanged, raising ValueError when it is unknown."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as America/Chicago") from error
    return name


def check_login_style(value: object) -> object:
    """Return a known login style unchanged, raising ValueError that lists the choices otherwise."""
    if value not in LOGIN_STYLES:
        raise ValueError(
            f"unknown login_style {value!r}: use 'classic' (Latest/Services/AllServices.svc paths) "
            "or 'api' (api/ paths with a Bearer token)"
        )
    return value


class FarmAccount(BaseModel):
    """One farm's portal account."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    farm_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    portal_url: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr
    timezone: str = "UTC"
    login_style: LoginStyle = "classic"

    _check_timezone = field_validator("timezone")(check_timezone)
    _check_login_style = field_validator("login_style", mode="before")(check_login_style)

    @field_validator("portal_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"invalid portal_url {value!r}: expected http:// or https://")
        return normalise_portal_url(value)

    @property
    def zone(self) -> ZoneInfo:
        """Return the farm's time zone."""
        return ZoneInfo(self.timezone)

    def credentials_fingerprint(self) -> str:
        """Return a digest of URL, login style, username and password.

        The digest notices a change of any of them without storing the password.
        """
        text = "\x1f".join(
            (self.portal_url, self.login_style, self.username, self.password.get_secret_value())
        )
        return hashlib.sha256(text.encode()).hexdigest()


def load_farms_file(path: Path) -> list[FarmAccount]:
    """Read and validate a farms file; FarmsFileError names the file and the invalid entry."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise FarmsFileError(f"cannot read farms file {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise FarmsFileError(f"invalid JSON in farms file {path}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("farms"), list):
        raise FarmsFileError(f'invalid farms file {path}: expected {{"portal_url": ..., "farms": [...]}}')

    default_url = document.get("portal_url")
    accounts: list[FarmAccount] = []
    for index, entry in enumerate(document["farms"]):
        if not isinstance(entry, dict):
            raise FarmsFileError(f"invalid farms file {path}: farms[{index}] is not an object")
        fields = {"portal_url": default_url, **entry}
        try:
            accounts.append(FarmAccount.model_validate(fields))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            farm_id = entry.get("farm_id")
            where = f"farms[{index}] (farm_id {farm_id!r})" if isinstance(farm_id, str) else f"farms[{index}]"
            raise FarmsFileError(f"invalid farms file {path}: {where}: {problems}") from None
    if not accounts:
        raise FarmsFileError(f"invalid farms file {path}: the farms list is empty; add at least one farm")
    farm_ids = [account.farm_id for account in accounts]
    duplicates = sorted({farm_id for farm_id in farm_ids if farm_ids.count(farm_id) > 1})
    if duplicates:
        raise FarmsFileError(f"invalid farms file {path}: duplicate farm_id {', '.join(duplicates)}")
    return accounts
