"""A pure token bucket for the per-app HTTP API request rate (LIMITS.md §1)."""

from __future__ import annotations


class TokenBucket:
    """Allows ``rate`` requests per second on average, in bursts of up to ``burst``.

    The caller passes the time; a clock that steps back refills nothing.

    Args:
        rate: tokens added per second (> 0).
        burst: the bucket size; one second's worth (at least one request) by default.
        now: the time the bucket starts full.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, now: float, burst: float | None = None) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = rate
        self.burst = max(1.0, rate) if burst is None else burst
        self._tokens = self.burst
        self._stamp = now

    def take(self, now: float) -> float:
        """Spend one token if there is one.

        Returns:
            0.0 when the request is allowed, else the seconds until a token is available.
        """
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
