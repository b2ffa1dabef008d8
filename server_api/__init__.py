"""The signed HTTP API that backends call (HTTP_API.md), independent of the transport."""
