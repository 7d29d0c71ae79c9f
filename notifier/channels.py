"""The delivery channel contract and the construction of channels from the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notifier.config import LoadedConfig, WebhookChannelConfig
from schemas.events import Alert


@dataclass(frozen=True)
class DeliveryContext:
    """Metadata of one delivery attempt, sent along with the alert."""

    event_id: str
    """Idempotency key: the alert event's id, the same on every attempt and every redelivery."""
    channel: str
    rule: str
    attempt: int
    """Attempt number from 1."""
    sent_at: datetime


class Channel(Protocol):
    """A way to deliver an alert state. ``send`` returns on success and raises DeliveryError on failure."""

    name: str

    def send(self, alert: Alert, context: DeliveryContext) -> None:
        """Deliver one alert state once."""


def build_channels(config: LoadedConfig) -> dict[str, Channel]:
    """Build every channel of a validated configuration, by name."""
    # Imported here so that loading the configuration does not pull in the HTTP and SMTP clients.
    from notifier.mail import EmailChannel
    from notifier.webhook import WebhookChannel

    channels: dict[str, Channel] = {}
    for name, settings in config.routing.channels.items():
        secret = config.secrets.get(name)
        if isinstance(settings, WebhookChannelConfig):
            channels[name] = WebhookChannel(name, settings, secret)
        else:
            channels[name] = EmailChannel(name, settings, secret)
    return channels
