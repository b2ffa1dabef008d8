"""Signed-in users of one app: their connections and who watches them (PROTOCOL.md §12)."""

from __future__ import annotations

from collections.abc import Container

from pusherd.protocol import messages
from pusherd.protocol.app import App
from pusherd.protocol.errors import ProtocolViolation
from pusherd.protocol.names import EventName
from pusherd.protocol.session import Session

#: the cluster's per-app set of signed-in users, kept as a presence channel no client can
#: name (``#`` is not allowed in channel names); its member events drive watchlists
ONLINE = "#online"


def watchlist_events(online: list[str], offline: list[str]) -> str:
    """Serialize a ``watchlist_events`` frame; empty groups are left out (§12.4)."""
    events = [
        {"name": name, "user_ids": ids}
        for name, ids in (("online", online), ("offline", offline))
        if ids
    ]
    return messages.serialize_event(EventName.WATCHLIST_EVENTS, messages.dumps({"events": events}))


class UserRegistry:
    """Which connections are signed in as which user, and the watchlists over them."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: user id -> its signed-in connections
        self.users: dict[str, dict[Session, None]] = {}
        #: watched user id -> the connections watching it
        self.watchers: dict[str, dict[Session, None]] = {}

    def connections(self, user_id: str) -> dict[Session, None]:
        return self.users.get(user_id, {})

    def is_online(self, user_id: str) -> bool:
        return user_id in self.users

    def sign_in(self, session: Session) -> list[Session]:
        """Register a session that just signed in; returns the watchers sent an ``online`` frame.

        The session's own initial watchlist frame is queued on it.
        """
        user = session.user
        if user is None:
            # Nothing to register: only a signed-in session's SignIn effect comes here.
            return []
        first = self.register(session)
        if self.app.enable_watchlist and user.watchlist:
            self.send_statuses(session, self.users)
        if not first:
            return []
        return self.notify(user.id, online=True, exclude=session)

    def register(self, session: Session) -> bool:
        """Note a signed-in session and its watchlist, sending nothing.

        Returns True if it is its user's first connection here. A cluster node uses this
        and decides the frames from the cluster's view (:meth:`send_statuses`, :meth:`notify`).
        """
        user = session.user
        if user is None:
            return False
        connections = self.users.setdefault(user.id, {})
        first = not connections
        connections[session] = None
        if self.app.enable_watchlist:
            for watched in user.watchlist:
                self.watchers.setdefault(watched, {})[session] = None
        return first

    def send_statuses(self, session: Session, online: Container[str]) -> None:
        """Queue a signed-in session's initial watchlist frame, given who is online (§12.4)."""
        user = session.user
        if user is None or not self.app.enable_watchlist or not user.watchlist:
            return
        session.send(
            watchlist_events(
                [w for w in user.watchlist if w in online],
                [w for w in user.watchlist if w not in online],
            )
        )

    def notify(
        self, user_id: str, *, online: bool, exclude: Session | None = None
    ) -> list[Session]:
        """Send ``user_id``'s watchers an ``online`` or ``offline`` frame; returns them."""
        if not self.app.enable_watchlist:
            return []
        notified = [w for w in self.watchers.get(user_id, ()) if w is not exclude]
        if notified:
            message = watchlist_events([user_id], []) if online else watchlist_events([], [user_id])
            for watcher in notified:
                watcher.send(message)
        return notified

    def sign_out(self, session: Session) -> list[Session]:
        """Forget a closed session; returns the watchers that were sent an ``offline`` frame."""
        user = session.user
        if user is None or not self.unregister(session):
            return []
        return self.notify(user.id, online=False)

    def unregister(self, session: Session) -> bool:
        """Forget a closed session, sending nothing; True if its user's last connection here left."""
        user = session.user
        if user is None:
            return False
        for watched in user.watchlist:
            watchers = self.watchers.get(watched)
            if watchers is not None:
                watchers.pop(session, None)
                if not watchers:
                    del self.watchers[watched]
        connections = self.users.get(user.id)
        if connections is None or session not in connections:
            return False
        del connections[session]
        if connections:
            return False
        del self.users[user.id]
        return True


def watched_change(message: str) -> tuple[str, bool] | None:
    """The user id a one-user ``watchlist_events`` message reports, and True if online."""
    try:
        data = messages.parse_json(messages.parse_json(message)["data"])
        event = data["events"][0]
        return str(event["user_ids"][0]), event["name"] == "online"
    except (ProtocolViolation, KeyError, IndexError, TypeError):
        return None
