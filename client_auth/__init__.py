"""Pusher signatures: channel authorization, user authentication, API and webhook signing.

Stdlib only, so any Python backend can sign tokens with no server running.
"""

from client_auth.channels import authorize_channel, shared_secret
from client_auth.signatures import sign, verify
from client_auth.users import authenticate_user

__all__ = ["authenticate_user", "authorize_channel", "shared_secret", "sign", "verify"]
