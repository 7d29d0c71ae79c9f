"""Unit tests of the response envelope: BOM, flags, payload spelling and invalid JSON."""

from __future__ import annotations

import json

import pytest

from producers.envelope import unwrap
from producers.exceptions import PayloadError, SessionExpiredError, TransientPortalError


def _body(**fields: object) -> bytes:
    document = {
        "ErrorObj": None,
        "exceptionMessage": None,
        "isInSession": True,
        "isAuthorize": True,
        "isSucceed": True,
        "contextId": "",
    }
    document.update(fields)
    return json.dumps(document).encode()


def test_bom_is_skipped() -> None:
    assert unwrap(b"\xef\xbb\xbf" + _body(reponseObj={"a": 1}), "X") == {"a": 1}


def test_both_payload_spellings() -> None:
    assert unwrap(_body(reponseObj=[1]), "X") == [1]
    assert unwrap(_body(responseObj=[2]), "X") == [2]


def test_is_succeed_false_is_transient() -> None:
    body = _body(reponseObj=None, isSucceed=False, ErrorObj={"ErrorCode": 7, "ErrorMessage": "busy"})
    with pytest.raises(TransientPortalError, match="busy"):
        unwrap(body, "GetSiteControllersInfo")


@pytest.mark.parametrize("flag", ["isAuthorize", "isInSession"])
def test_session_flags_false_expire(flag: str) -> None:
    with pytest.raises(SessionExpiredError):
        unwrap(_body(reponseObj=None, **{flag: False}), "X")


def test_malformed_json_keeps_raw_bytes() -> None:
    raw = b'{"reponseObj": {"FarmHouses": ['
    with pytest.raises(PayloadError) as caught:
        unwrap(raw, "X")
    assert caught.value.raw == raw


def test_non_object_envelope_rejected() -> None:
    with pytest.raises(PayloadError, match="expected a JSON object"):
        unwrap(b"[1, 2]", "X")
