"""Channel types by name prefix and channel-name rules (PROTOCOL.md §6)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from pusherd.protocol import names

#: "Allowed characters: ^[-a-zA-Z0-9_=@,.;]+$" (§6.2)
_NAME = re.compile(r"[-a-zA-Z0-9_=@,.;]+")


class ChannelType(Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    ENCRYPTED = "encrypted"
    PRESENCE = "presence"
    SERVER_TO_USER = "server-to-user"


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """What a channel's name says about it."""

    type: ChannelType
    cache: bool

    @property
    def needs_auth(self) -> bool:
        return self.type is not ChannelType.PUBLIC

    @property
    def is_presence(self) -> bool:
        return self.type is ChannelType.PRESENCE

    @property
    def is_encrypted(self) -> bool:
        return self.type is ChannelType.ENCRYPTED

    @property
    def authorizes_connection(self) -> bool:
        """A successful subscription satisfies the authorized-connections timeout (§12.6)."""
        return self.type in (ChannelType.PRIVATE, ChannelType.ENCRYPTED, ChannelType.PRESENCE)

    @property
    def allows_client_events(self) -> bool:
        return self.type in (ChannelType.PRIVATE, ChannelType.PRESENCE)


# "Classify in this order (first match wins)" (§6.1)
_PREFIXES = (
    (names.SERVER_TO_USER_PREFIX, ChannelKind(ChannelType.SERVER_TO_USER, False)),
    (names.PRESENCE_CACHE_PREFIX, ChannelKind(ChannelType.PRESENCE, True)),
    (names.PRESENCE_PREFIX, ChannelKind(ChannelType.PRESENCE, False)),
    (names.ENCRYPTED_CACHE_PREFIX, ChannelKind(ChannelType.ENCRYPTED, True)),
    (names.ENCRYPTED_PREFIX, ChannelKind(ChannelType.ENCRYPTED, False)),
    (names.PRIVATE_CACHE_PREFIX, ChannelKind(ChannelType.PRIVATE, True)),
    (names.PRIVATE_PREFIX, ChannelKind(ChannelType.PRIVATE, False)),
    (names.CACHE_PREFIX, ChannelKind(ChannelType.PUBLIC, True)),
)
_PUBLIC = ChannelKind(ChannelType.PUBLIC, False)


@lru_cache(maxsize=4096)
def classify(name: str) -> ChannelKind:
    """Return the kind of channel ``name`` denotes."""
    for prefix, kind in _PREFIXES:
        if name.startswith(prefix):
            return kind
    return _PUBLIC


def is_valid_user_id(user_id: str, max_length: int = 128) -> bool:
    """A user id uses channel-name characters and is 1..max_length long (§12.2)."""
    return 0 < len(user_id) <= max_length and _NAME.fullmatch(user_id) is not None


def is_valid_name_characters(name: str) -> bool:
    """Tell whether ``name`` is non-empty and uses only §6.2's characters, or is a user channel."""
    if name.startswith(names.SERVER_TO_USER_PREFIX):
        user_id = name[len(names.SERVER_TO_USER_PREFIX) :]
        return bool(user_id) and _NAME.fullmatch(user_id) is not None
    return _NAME.fullmatch(name) is not None


def is_valid_channel_name(name: str, max_length: int = 200, max_user_id_length: int = 128) -> bool:
    """Tell whether ``name`` may be published to or queried (§6.2, §12.3).

    ``#`` is reserved: the only ``#`` names accepted are ``#server-to-user-{user_id}``, whose
    user id follows the user id rules instead of the channel name length.
    """
    if name.startswith(names.SERVER_TO_USER_PREFIX):
        return is_valid_user_id(server_to_user_id(name), max_user_id_length)
    return len(name) <= max_length and _NAME.fullmatch(name) is not None


def server_to_user_id(name: str) -> str:
    """Return the user id of a ``#server-to-user-{id}`` channel name."""
    return name[len(names.SERVER_TO_USER_PREFIX) :]
