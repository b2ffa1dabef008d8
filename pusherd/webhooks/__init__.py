"""Webhooks (WEBHOOKS.md): debounce and batch, sign, deliver with retries, keep dead letters.

``schedule`` decides what to send and when (pure), ``outbox`` and ``redis_outbox`` keep
deliveries until they succeed or die, and ``dispatcher`` sends them from a background task.
"""

from pusherd.webhooks.dispatcher import WebhookDispatcher
from pusherd.webhooks.schedule import Delivery, Scheduler

__all__ = ["Delivery", "Scheduler", "WebhookDispatcher"]
