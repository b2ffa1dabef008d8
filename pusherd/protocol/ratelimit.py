"""A pure sliding-window rate limit: client events per connection and API requests per app
(LIMITS.md §1)."""

from __future__ import annotations

import math
from collections import deque


class SlidingWindow:
    """Allows at most ``rate`` requests in any one second, wherever that second starts.

    A log of the accepted requests' times, so a burst cannot get twice the rate through
    across the edge of a fixed window (or from a full token bucket). Below one request a
    second, one request per ``1 / rate`` seconds. The caller passes the time; a clock that
    steps back frees nothing.

    Args:
        rate: requests per second (> 0).
    """

    __slots__ = ("_times", "capacity", "rate", "window")

    def __init__(self, rate: float) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = rate
        self.capacity = max(1, math.floor(rate))
        self.window = self.capacity / rate
        self._times: deque[float] = deque()

    def take(self, now: float) -> float:
        """Count one request if the window has room.

        Returns:
            0.0 when the request is allowed, else the seconds until one would be.
        """
        times = self._times
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.capacity:
            times.append(max(now, times[-1]) if times else now)
            return 0.0
        return min(self.window, times[0] + self.window - now)
