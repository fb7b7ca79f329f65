"""Who may talk to the UI's server: requests for its own host names, from its own pages.

A web page the user visits elsewhere can make the browser open a WebSocket to the UI
(WebSockets are not bound by the same-origin policy), and a DNS-rebinding domain can make
the browser treat the UI as part of the attacker's site; either could then drive the
controls (and, say, ask for a market of many gigabytes). :class:`HostGuard` wraps the
server's ASGI app and refuses both:

* a ``Host`` header naming a host the server was not started for (a rebinding domain
  reaches the server under its own name) gets HTTP 400;
* an ``Origin`` header other than the ``Host`` the request was sent to (a foreign page's
  request) gets HTTP 403.

A refused WebSocket handshake gets 403, never 101. The ``Host``'s port is not checked: an
SSH tunnel or a container's port map shows the browser another port, and a foreign page
cannot choose the ``Host`` (only the ``Origin`` check stops a page of another local port).
A request without ``Origin`` (a command-line client, a plain link) is not a foreign page's.
Starlette's ``TrustedHostMiddleware`` is not used: it splits ``[::1]:8765`` at the first
colon and knows nothing of origins.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}

log = logging.getLogger(__name__)


def normal_name(name: str) -> str:
    """A host name as compared: lower case, no trailing dot, IP addresses in one spelling."""
    name = name.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def split_netloc(netloc: str, scheme: str = "http") -> tuple[str, int] | None:
    """``(name, port)`` of a ``Host`` header or an origin's ``host[:port]``; None if malformed."""
    if not netloc or any(c in netloc for c in "/?#@\\ \t"):
        return None
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return normal_name(parts.hostname), port if port is not None else DEFAULT_PORTS[scheme]


class HostGuard:
    """ASGI middleware: serve only requests for the names this server was started for.

    ``host`` is the ``--host`` given, ``address`` the address its socket is bound to and
    ``extra`` the ``--allow-host`` names. Accepted: bound to a loopback address, the loopback
    names (127.0.0.1, localhost, [::1]); bound to all addresses (0.0.0.0, ::), those, the
    machine's name and any IP address (a rebinding page sends its domain name, never an
    address); and always ``host``, ``address`` and ``extra``.
    """

    def __init__(self, app: ASGIApp, host: str, address: str,
                 extra: Iterable[str] = ()) -> None:
        self.app = app
        bound = ipaddress.ip_address(address)
        self.any_address = bound.is_unspecified
        names = {normal_name(n) for n in (host, address, *extra)}
        if bound.is_loopback or self.any_address:
            names |= LOOPBACK_NAMES
        if self.any_address:
            names.add(normal_name(socket.gethostname()))
        self.names = frozenset(names)

    def accepts(self, name: str) -> bool:
        return name in self.names or (self.any_address and is_address(name))

    def refusal(self, host: str | None, origin: str | None) -> tuple[int, str] | None:
        """The status and reason to refuse a request with these headers, or None."""
        target = split_netloc(host or "")
        if target is None or not self.accepts(target[0]):
            name = target[0] if target else host
            return 400, (f"Invalid host header {name!r}: start the wommsim UI with "
                         "--allow-host NAME to accept another name")
        if origin is not None:
            parts = urlsplit(origin)
            source = (split_netloc(parts.netloc, parts.scheme)
                      if parts.scheme in DEFAULT_PORTS else None)
            expected = split_netloc(host or "", parts.scheme)
            if source is None or source != expected:
                return 403, f"Cross-origin request refused: Origin {origin!r}"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = Headers(scope=scope)
            refused = self.refusal(headers.get("host"), headers.get("origin"))
            if refused is not None:
                status, reason = refused
                log.warning("wommsim UI: refused %s %s: %s", scope["type"],
                            scope.get("path", ""), reason)
                if scope["type"] == "websocket":
                    await receive()  # websocket.connect
                    await send({"type": "websocket.close", "code": 1008})  # server: 403
                else:
                    await PlainTextResponse(reason + "\n", status)(scope, receive, send)
                return
        await self.app(scope, receive, send)
