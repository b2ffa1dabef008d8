"""The domain's errors, each mapped to one HTTP status by the API."""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base of the domain errors; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HelpdeskError):
    """The thing asked for does not exist, or is not visible to this user."""

    status = 404


class Forbidden(HelpdeskError):
    """The user may not do this."""

    status = 403


class Invalid(HelpdeskError):
    """The request's content breaks a rule (a missing field, a forbidden status change)."""

    status = 422


class Unauthorized(HelpdeskError):
    """No valid sign-in token."""

    status = 401
