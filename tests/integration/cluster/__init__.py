"""Several pusherd processes on one Redis, driven by pusher-js and the official SDKs."""
