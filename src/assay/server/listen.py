"""Listening sockets for assay's servers (bound here, served by uvicorn).

The socket is created with the protocol ``getaddrinfo`` reports (TCP), not the
default ``0``: asyncio only sets ``TCP_NODELAY`` on connections whose socket
says ``IPPROTO_TCP``, and without it every small response (OSV's ``{}``)
waits ~40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import ipaddress
import socket

from assay.errors import AssayError

BACKLOG = 2048  # uvicorn's default


class ListenError(AssayError):
    """The address cannot be listened on (taken, not local, unresolvable): exit 2."""

    exit_code = 2


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port) and listening.

    It listens at once, so that clients started as soon as the URL is printed
    wait in the backlog until the server accepts, instead of being refused.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ListenError(f"--host {host!r}: cannot resolve it: {exc}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ListenError(
            f"cannot listen on {host}:{port}: {reason} (pick another --port, or 0 for any free one)"
        ) from None
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` for a bound socket; loopback stands in for a wildcard address."""
    address, port = sock.getsockname()[:2]
    ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    if ip.is_unspecified:
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"http://{host}:{port}"


def is_loopback(sock: socket.socket) -> bool:
    address = str(sock.getsockname()[0]).split("%", 1)[0]
    return ipaddress.ip_address(address).is_loopback
