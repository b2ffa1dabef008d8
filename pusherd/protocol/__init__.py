"""The Pusher protocol (version 7) with no I/O: parsing, sessions, channels, serialization."""
