"""E-mail channel: a plain-text message per alert state, sent with smtplib."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from pydantic import SecretStr

from notifier.channels import DeliveryContext
from notifier.config import EmailChannelConfig
from notifier.exceptions import DeliveryError
from schemas.events import Alert
from schemas.parameters import PARAMETERS

logger = logging.getLogger(__name__)

_UNIT_SUFFIX = {
    "degC": " °C",
    "%": " %",
    "Pa": " Pa",
    "kg": " kg",
    "L": " L",
    "m3/h": " m³/h",
    "ppm": " ppm",
    "s": " s",
    "m/s": " m/s",
    "deg": "°",
}

# Advice on what to check first, by the first part of the alert subject (the parameter group).
_CHECKS = {
    "temperature": "heaters and their fuel supply, tunnel and exhaust fans, air inlets and curtains, "
    "and whether the probe agrees with a hand-held thermometer",
    "humidity": "minimum ventilation, foggers and cooling pads, drinker lines for leaks, "
    "and the humidity probe",
    "static_pressure": "inlet and curtain openings, doors left open, fan belts, "
    "and the pressure tube for a blockage or water",
    "co2": "minimum ventilation fans and timers, and heater exhaust flues",
    "ammonia": "minimum ventilation fans and timers, and the litter",
    "water": "the water supply and filters, drinker lines for leaks or air locks, and the water meter",
    "feed": "feed bins, augers and feed-line motors for a blockage, and the feed scale",
    "device": "the equipment named above, its breaker, and the controller relay that drives it",
    "ventilation": "fans, inlet and curtain actuators, and the controller's ventilation settings",
    "inlet": "the inlet actuator, its cable and limit switches",
    "curtain": "the curtain actuator, its cable and limit switches",
    "controller": "the controller's power and network cable, and whether RotemNet Web shows the house online",
    "scraper": "whether RotemNet Web opens with the farm's account, and the farmstream scraper log",
}
_DEFAULT_CHECK = "the controller's alarm list in RotemNet Web and the equipment named above"

_STATE_LABEL = {"open": "OPEN", "reminder": "STILL OPEN", "resolved": "RESOLVED"}


def _format_time(moment: datetime) -> str:
    # NOTE: farms have no time zone in the event contract yet, so times are shown in UTC.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _format_duration(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _format_value(alert: Alert, value: float) -> str:
    parameter = PARAMETERS.get(alert.subject)
    suffix = _UNIT_SUFFIX.get(parameter.unit, "") if parameter is not None else ""
    return f"{value:.4g}{suffix}"


def location_of(alert: Alert) -> str:
    """Return where the alert is, in words: the farm and the house, or the whole farm."""
    if alert.house_number is None:
        return f"farm {alert.farm_id}, whole farm"
    return f"farm {alert.farm_id}, house {alert.house_number}"


def render_subject(alert: Alert, prefix: str) -> str:
    """Return the subject line: state, severity, where and what, short enough for a phone screen."""
    where = (
        f"{alert.farm_id}" if alert.house_number is None else f"{alert.farm_id} house {alert.house_number}"
    )
    state = _STATE_LABEL[alert.state]
    return f"{prefix} {state} {alert.severity.upper()}: {where}: {alert.title}".strip()


def render_body(alert: Alert, context: DeliveryContext) -> str:
    """Return the plain-text body: what, where, how bad, value against expected, since when, what to check."""
    lines = [f"{_STATE_LABEL[alert.state]} {alert.severity.upper()} alert: {alert.title}", ""]
    lines.append(f"Where:     {location_of(alert)}")
    lines.append(f"What:      {alert.subject} (rule {alert.rule})")
    lines.append(f"Severity:  {alert.severity}")
    if alert.value is not None:
        measured = f"Value:     {_format_value(alert, alert.value)}"
        if alert.expected is not None:
            measured += f", expected {_format_value(alert, alert.expected)}"
        lines.append(measured)
    elif alert.expected is not None:
        lines.append(f"Expected:  {_format_value(alert, alert.expected)}")

    if alert.state == "resolved":
        resolved_at = alert.resolved_at or alert.event_time
        lines.append(f"Since:     {_format_time(alert.opened_at)}")
        lines.append(
            f"Resolved:  {_format_time(resolved_at)}, after {_format_duration(resolved_at - alert.opened_at)}"
        )
    else:
        lines.append(
            f"Since:     {_format_time(alert.opened_at)}, open for"
            f" {_format_duration(alert.event_time - alert.opened_at)}"
        )
    lines += ["", alert.message, ""]

    if alert.state == "resolved":
        lines.append("Nothing to do: the condition has cleared. Check the house if it keeps returning.")
    else:
        group = alert.subject.split(".", 1)[0]
        check = _CHECKS.get(group) or _CHECKS.get(alert.rule.split("_", 1)[0]) or _DEFAULT_CHECK
        lines.append(f"What to check: {check}.")

    lines += [
        "",
        "--",
        f"Alert {alert.alert_id}, event {alert.event_id} (sequence {alert.sequence}).",
        f"Sent by farmstream through channel {context.channel}, routing rule {context.rule},"
        f" attempt {context.attempt}.",
    ]
    return "\n".join(lines) + "\n"


def build_message(alert: Alert, settings: EmailChannelConfig, context: DeliveryContext) -> EmailMessage:
    """Return the e-mail of one alert state, with a Message-ID derived from the event id."""
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = ", ".join(settings.to)
    message["Subject"] = render_subject(alert, settings.subject_prefix)
    message["Date"] = format_datetime(context.sent_at)
    # The same Message-ID on every attempt lets mail clients and servers drop a second copy.
    domain = parseaddr(settings.from_address)[1].rpartition("@")[2] or "farmstream.invalid"
    message["Message-ID"] = f"<{context.event_id}.{context.channel}@{domain}>"
    message["X-Farmstream-Event-Id"] = context.event_id
    message["X-Farmstream-Alert-Id"] = alert.alert_id
    message.set_content(render_body(alert, context))
    return message


class EmailChannel:
    """Deliver alert states through one SMTP server to a fixed list of recipients."""

    def __init__(self, name: str, settings: EmailChannelConfig, password: SecretStr | None) -> None:
        self.name = name
        self._settings = settings
        self._password = password

    def send(self, alert: Alert, context: DeliveryContext) -> None:
        """Send the message once; raise DeliveryError, permanent when the server rejects it for good."""
        settings = self._settings
        message = build_message(alert, settings, context)
        where = f"{settings.host}:{settings.port}"
        try:
            client = self._connect()
            try:
                refused = client.send_message(message)
            finally:
                try:
                    client.quit()
                except smtplib.SMTPException:
                    client.close()
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(
                f"e-mail {self.name} via {where}: every recipient rejected:"
                f" {sorted(error.recipients)}: check the to addresses",
                permanent=True,
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(
                f"e-mail {self.name} via {where}: login as {settings.username!r} rejected"
                f" ({error.smtp_code}): check username and the password variable {settings.password_env}",
                permanent=True,
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(
                f"e-mail {self.name} via {where}: {error}: check the channel's security setting",
                permanent=True,
            ) from None
        except smtplib.SMTPResponseException as error:
            reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else ""
            raise DeliveryError(
                f"e-mail {self.name} via {where}: server replied {error.smtp_code} {reply[:200]!r}",
                permanent=500 <= error.smtp_code < 600,
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise DeliveryError(
                f"e-mail {self.name} via {where}: server certificate not trusted ({error.verify_message}):"
                " set ca_file to the CA that signed it",
                permanent=True,
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(
                f"e-mail {self.name} via {where} failed: {type(error).__name__}: {error}"
            ) from None
        if refused:
            # A partial rejection counts as delivered because the other recipients have the message.
            logger.warning(
                "e-mail rejected for some recipients",
                extra={"channel": self.name, "event_id": context.event_id, "refused": sorted(refused)},
            )

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        ca_file = str(settings.ca_file) if settings.ca_file is not None else None
        context = ssl.create_default_context(cafile=ca_file)
        client: smtplib.SMTP
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        try:
            client.ehlo()
            if settings.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if settings.username is not None and self._password is not None:
                client.login(settings.username, self._password.get_secret_value())
        except BaseException:
            client.close()
            raise
        return client
