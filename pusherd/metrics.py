"""Prometheus metrics of one node, read from the hub's own counts when scraped.

Gauges (connections, channels, subscriptions) are computed from the live registries at
scrape time, so they always match reality; counters are plain integers the hub and the
server bump once per fan-out or per frame, never a prometheus call on the hot path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server_api.http import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from pusherd.hub import Hub
    from pusherd.server import Api
    from pusherd.webhooks import WebhookDispatcher

#: seconds; a backplane publish or query answered by the adapter (Redis)
ADAPTER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The node's metrics registry and the ``/metrics`` route.

    Args:
        hub: the node's hub (connections, channels and traffic counts).
        webhooks: the webhook dispatcher (delivery results), if any.
    """

    def __init__(self, hub: Hub, webhooks: WebhookDispatcher | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        #: HTTP API answers by status code
        self.http_responses: Counter[int] = Counter()
        self.registry.register(_NodeCollector(hub, webhooks, self.http_responses))
        #: the adapter's round-trip time; the backplane observes it per request
        self.adapter_latency = Histogram(
            "pusherd_adapter_round_trip_seconds",
            "Round-trip time of requests to the adapter (backplane)",
            buckets=ADAPTER_BUCKETS,
            registry=self.registry,
        )

    def route(self, request: ApiRequest) -> ApiResponse:
        """``GET /metrics`` in Prometheus text format."""
        return ApiResponse(200, generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)

    def count_api(self, api: Api) -> Api:
        """Wrap the HTTP API so every answer is counted by status."""
        return _CountedApi(api, self.http_responses)


class _CountedApi:
    def __init__(self, api: Api, counts: Counter[int]) -> None:
        self._api = api
        self._counts = counts

    def handles(self, path: str) -> bool:
        return self._api.handles(path)

    async def handle(self, request: ApiRequest) -> ApiResponse:
        response = await self._api.handle(request)
        self._counts[response.status] += 1
        return response


class _NodeCollector(Collector):
    def __init__(self, hub: Hub, webhooks: WebhookDispatcher | None, http: Counter[int]) -> None:
        self.hub = hub
        self.webhooks = webhooks
        self.http = http

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        connections = GaugeMetricFamily(
            "pusherd_connections", "Open WebSocket connections", labels=["app_id"]
        )
        channels = GaugeMetricFamily("pusherd_channels", "Occupied channels", labels=["app_id"])
        subscriptions = GaugeMetricFamily(
            "pusherd_subscriptions",
            "Channel subscriptions (connection, channel pairs)",
            labels=["app_id"],
        )
        for app_id, state in list(hub.states.items()):
            connections.add_metric([app_id], len(state.sessions))
            channels.add_metric([app_id], len(state.registry.channels))
            subscriptions.add_metric(
                [app_id],
                sum(len(c.subscribers) for c in state.registry.channels.values()),
            )
        yield connections
        yield channels
        yield subscriptions
        yield GaugeMetricFamily(
            "pusherd_connections_total_open",
            "Open WebSocket connections, all apps",
            value=hub.connection_count,
        )
        yield CounterMetricFamily(
            "pusherd_connections_opened",
            "WebSocket connections accepted",
            value=hub.connections_opened,
        )
        yield CounterMetricFamily(
            "pusherd_messages_received", "WebSocket messages received", value=hub.messages_in
        )
        yield CounterMetricFamily(
            "pusherd_bytes_received", "WebSocket message bytes received", value=hub.bytes_in
        )
        yield CounterMetricFamily(
            "pusherd_messages_sent", "WebSocket messages sent", value=hub.messages_out
        )
        yield CounterMetricFamily(
            "pusherd_bytes_sent", "WebSocket frame bytes sent", value=hub.bytes_out
        )
        http = CounterMetricFamily(
            "pusherd_http_api_requests", "HTTP API requests answered, by status", labels=["status"]
        )
        for status, count in sorted(self.http.items()):
            http.add_metric([str(status)], count)
        yield http
        if self.webhooks is not None:
            deliveries = CounterMetricFamily(
                "pusherd_webhook_deliveries",
                "Webhook delivery attempts, by result (success, retry, dead_letter, lost)",
                labels=["result"],
            )
            for result, count in sorted(self.webhooks.results.items()):
                deliveries.add_metric([result], count)
            yield deliveries
