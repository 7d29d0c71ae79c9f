"""Unit tests of the e-mail channel: rendering, and sending to a local SMTP server on 127.0.0.1."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from notifier.channels import DeliveryContext
from notifier.config import EmailChannelConfig
from notifier.exceptions import DeliveryError
from notifier.mail import EmailChannel, render_body, render_subject
from tests.notifier.helpers import Certificate, SmtpReceiver, make_alert

SENT_AT = datetime(2026, 12, 4, 3, 6, tzinfo=UTC)


def _context(event_id: str) -> DeliveryContext:
    return DeliveryContext(event_id=event_id, channel="grower", rule="critical", attempt=1, sent_at=SENT_AT)


def _settings(port: int, **overrides: object) -> EmailChannelConfig:
    values: dict[str, object] = {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "from": "farmstream <alerts@farm.test>",
        "to": ["grower@farm.test", "manager@farm.test"],
    }
    values.update(overrides)
    return EmailChannelConfig.model_validate(values)


def test_subject_names_state_severity_and_house() -> None:
    subject = render_subject(make_alert(), "[farmstream]")
    assert subject == "[farmstream] OPEN CRITICAL: north-ridge house 3: House temperature far above target"


def test_body_answers_what_where_since() -> None:
    alert = make_alert(minutes_open=25)
    body = render_body(alert, _context(alert.event_id))
    assert "Where:     farm north-ridge, house 3" in body
    assert "What:      temperature.average (rule temperature_off_target)" in body
    assert "Severity:  critical" in body
    assert "Value:     34.2 °C, expected 27 °C" in body
    assert "Since:     2026-12-04 02:41 UTC, open for 25 min" in body
    assert alert.message in body
    assert "What to check: heaters" in body
    assert alert.event_id in body


def test_resolved_body_says_nothing_to_do() -> None:
    alert = make_alert(state="resolved", sequence=2, minutes_open=125)
    body = render_body(alert, _context(alert.event_id))
    assert body.startswith("RESOLVED CRITICAL alert:")
    assert "Resolved:  2026-12-04 04:46 UTC, after 2 h 5 min" in body
    assert "Nothing to do" in body
    assert "What to check" not in body


def test_farm_wide_alert_has_no_house() -> None:
    alert = make_alert(house_number=None, rule="scraper_failing", subject="scraper", severity="warning")
    body = render_body(alert, _context(alert.event_id))
    assert "Where:     farm north-ridge, whole farm" in body
    assert "What to check: whether RotemNet Web opens" in body
    assert render_subject(alert, "[fs]").startswith("[fs] OPEN WARNING: north-ridge: ")


def test_send_logs_in_and_delivers(smtp_receiver: SmtpReceiver) -> None:
    settings = _settings(smtp_receiver.port, username="alerts", password_env="TEST_SMTP_PASSWORD")
    alert = make_alert()
    EmailChannel("grower", settings, SecretStr("s3cret-smtp")).send(alert, _context(alert.event_id))

    assert smtp_receiver.logins == ["alerts"]
    [message] = smtp_receiver.messages
    assert smtp_receiver.envelopes == [("alerts@farm.test", ["grower@farm.test", "manager@farm.test"])]
    assert message["Subject"] == render_subject(alert, "[farmstream]")
    assert message["Message-ID"] == f"<{alert.event_id}.grower@farm.test>"
    assert message["X-Farmstream-Event-Id"] == alert.event_id
    text = message.get_content()
    assert "Where:     farm north-ridge, house 3" in text


def test_wrong_password_is_permanent(smtp_receiver: SmtpReceiver) -> None:
    settings = _settings(smtp_receiver.port, username="alerts", password_env="TEST_SMTP_PASSWORD")
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        EmailChannel("grower", settings, SecretStr("wrong")).send(alert, _context(alert.event_id))
    assert caught.value.permanent is True
    assert "login as 'alerts' rejected" in str(caught.value)
    assert "wrong" not in str(caught.value).replace("login", "")
    assert smtp_receiver.messages == []


def test_all_recipients_rejected_is_permanent(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.reject_recipients.update({"grower@farm.test", "manager@farm.test"})
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        EmailChannel("grower", _settings(smtp_receiver.port), None).send(alert, _context(alert.event_id))
    assert caught.value.permanent is True
    assert "every recipient rejected" in str(caught.value)


def test_partial_refusal_still_delivers(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.reject_recipients.add("manager@farm.test")
    alert = make_alert()
    EmailChannel("grower", _settings(smtp_receiver.port), None).send(alert, _context(alert.event_id))
    assert smtp_receiver.envelopes == [("alerts@farm.test", ["grower@farm.test"])]


def test_unreachable_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        EmailChannel("grower", _settings(port, timeout_seconds=2), None).send(alert, _context(alert.event_id))
    assert caught.value.permanent is False
    assert "ConnectionRefusedError" in str(caught.value)


def test_starttls_then_login_delivers(starttls_receiver: SmtpReceiver, certificate: Certificate) -> None:
    settings = _settings(
        starttls_receiver.port,
        security="starttls",
        ca_file=str(certificate.certificate),
        username="alerts",
        password_env="TEST_SMTP_PASSWORD",
    )
    alert = make_alert()
    EmailChannel("grower", settings, SecretStr("s3cret-smtp")).send(alert, _context(alert.event_id))
    assert starttls_receiver.logins == ["alerts"]
    assert len(starttls_receiver.messages) == 1


def test_plain_session_rejected_by_starttls_server(starttls_receiver: SmtpReceiver) -> None:
    alert = make_alert()
    with pytest.raises(DeliveryError) as caught:
        EmailChannel("grower", _settings(starttls_receiver.port), None).send(alert, _context(alert.event_id))
    assert caught.value.permanent is True
    assert "server replied 530" in str(caught.value)
    assert starttls_receiver.messages == []


def test_untrusted_certificate_is_permanent(starttls_receiver: SmtpReceiver) -> None:
    alert = make_alert()
    settings = _settings(starttls_receiver.port, security="starttls")
    with pytest.raises(DeliveryError) as caught:
        EmailChannel("grower", settings, None).send(alert, _context(alert.event_id))
    assert caught.value.permanent is True
    assert "server certificate not trusted" in str(caught.value)


def test_implicit_tls_delivers(smtps_receiver: SmtpReceiver, certificate: Certificate) -> None:
    settings = _settings(smtps_receiver.port, security="ssl", ca_file=str(certificate.certificate))
    alert = make_alert()
    EmailChannel("grower", settings, None).send(alert, _context(alert.event_id))
    assert len(smtps_receiver.messages) == 1
