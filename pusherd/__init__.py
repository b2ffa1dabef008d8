"""pusherd: a self-hosted, Pusher-wire-compatible realtime server."""

__version__ = "0.1.0"
