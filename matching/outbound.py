"""Outbound HTTP to addresses a client chose (webhooks), safe against server-side request forgery.

A destination is refused when its host is, or resolves to, an address that is not on the public
internet: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 — cloud
metadata — fe80::/10), multicast, reserved, unspecified, shared (100.64/10) or otherwise not global;
IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry. Every address of a host must
pass, so one public record cannot carry a private one along.

The check runs at subscribe time (`check_destination`, a name that does not resolve yet is let
through: there is no address to refuse) and again at every delivery (`post`), which resolves the host,
refuses as above and connects to the very address it checked (no second lookup an attacker's DNS could
answer differently), follows no redirect, uses short timeouts and reads at most a few KiB of the reply.

`settings.WEBHOOK_ALLOWED_NETWORKS` (CIDR list, empty by default) lets an operator allow a receiver on
an internal network on purpose; tests use it for their receiver on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

CONNECT_TIMEOUT = 5.0  # seconds, for connecting and for each read
TOTAL_TIMEOUT = 10.0  # seconds for the whole exchange
MAX_RESPONSE_BYTES = 4096  # only the status matters; the rest of the body is never read


class UnsafeDestination(ValueError):
    """The URL may not be called: its scheme, or an address its host is or resolves to."""


class UnresolvedHost(UnsafeDestination):
    """The host has no address (yet)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # every address the host resolved to, each one allowed


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` (tests replace this to play a DNS answer)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(net, strict=False) for net in getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", [])
    ]


def refusal(address: str) -> str | None:
    """Why `address` may not be called, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id names an interface
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks()):
        return None
    for flag, reason in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, flag):
            return reason
    if not ip.is_global:
        return "not global"
    return None


def _refuse(host: str, address: str, reason: str) -> UnsafeDestination:
    return UnsafeDestination(
        _("不允许推送到内网或保留地址（%(host)s → %(address)s，%(reason)s）。")
        % {"host": host, "address": address, "reason": reason}
    )


def check_destination(url: str, *, require_address: bool = False) -> Destination:
    """The destination of `url` with its allowed addresses; UnsafeDestination otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination(_("Webhook 地址无效。")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination(_("Webhook 地址必须是 http:// 或 https:// 开头的网址"))
    if parts.username or parts.password:
        raise UnsafeDestination(_("Webhook 地址不能包含用户名或密码。"))
    host = parts.hostname
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        addresses = [str(ipaddress.ip_address(host))]  # a literal address
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            addresses = []
    if not addresses:
        if require_address:
            raise UnresolvedHost(_("无法解析 Webhook 地址的主机名 %(host)s。") % {"host": host})
        return Destination(parts.scheme, host, port, target, ())
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise _refuse(host, address, reason)
    return Destination(parts.scheme, host, port, target, tuple(addresses))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; Host header stays the URL's host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the URL's host name (SNI and certificate)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` once and return the HTTP status. UnsafeDestination when refused; OSError
    (timeouts included) or http.client.HTTPException when the exchange failed."""
    destination = check_destination(url, require_address=True)
    connection_class = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(
        destination.host, destination.port, address=destination.addresses[0], timeout=CONNECT_TIMEOUT
    )
    deadline = time.monotonic() + TOTAL_TIMEOUT
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        remaining = MAX_RESPONSE_BYTES
        while remaining > 0 and time.monotonic() < deadline:
            chunk = response.read1(min(remaining, 1024)) if hasattr(response, "read1") else b""
            if not chunk:
                break
            remaining -= len(chunk)
        return response.status
    finally:
        connection.close()
