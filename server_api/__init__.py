"""The signed HTTP API that backends call (HTTP_API.md), independent of the transport."""

from server_api.errors import ApiError
from server_api.router import Api

__all__ = ["Api", "ApiError"]
