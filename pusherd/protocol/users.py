"""Signed-in users of one app: their connections and who watches them (PROTOCOL.md §12)."""

from __future__ import annotations

from pusherd.protocol import messages
from pusherd.protocol.app import App
from pusherd.protocol.names import EventName
from pusherd.protocol.session import Session


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
        connections = self.users.setdefault(user.id, {})
        first = not connections
        connections[session] = None
        watching = self.app.enable_watchlist
        if watching and user.watchlist:
            for watched in user.watchlist:
                self.watchers.setdefault(watched, {})[session] = None
            online = [w for w in user.watchlist if w in self.users]
            offline = [w for w in user.watchlist if w not in self.users]
            session.send(watchlist_events(online, offline))
        notified: list[Session] = []
        if watching and first:
            notified = [w for w in self.watchers.get(user.id, ()) if w is not session]
            for watcher in notified:
                watcher.send(watchlist_events([user.id], []))
        return notified

    def sign_out(self, session: Session) -> list[Session]:
        """Forget a closed session; returns the watchers that were sent an ``offline`` frame."""
        user = session.user
        if user is None:
            return []
        for watched in user.watchlist:
            watchers = self.watchers.get(watched)
            if watchers is not None:
                watchers.pop(session, None)
                if not watchers:
                    del self.watchers[watched]
        connections = self.users.get(user.id)
        if connections is None or session not in connections:
            return []
        del connections[session]
        if connections:
            return []
        del self.users[user.id]
        notified = list(self.watchers.get(user.id, ())) if self.app.enable_watchlist else []
        for watcher in notified:
            watcher.send(watchlist_events([], [user.id]))
        return notified
