"""The SSRF guard for outgoing webhooks: Paylinks POSTs only to public addresses.

A merchant chooses the URL, so without a guard anyone with a console account could make
the worker call the cloud metadata service, the database or an admin panel on the
private network. The host is resolved and *every* address it resolves to must be public
(not loopback, private, link-local, multicast, unspecified or reserved, and never the
metadata addresses 169.254.169.254 / fd00:ec2::254). It is checked when an endpoint is
saved and again at each delivery, where the worker connects to the very address it
checked (so a DNS answer that changes between check and connect -- DNS rebinding --
cannot send it elsewhere).

``PAYLINKS_WEBHOOK_ALLOW_PRIVATE`` lifts the address check (local development, tests);
``PAYLINKS_WEBHOOK_ALLOW_HTTP`` (default: ``DEBUG``) allows plain ``http://``.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class UnsafeURL(ValueError):
    """Why Paylinks will not send to this URL, in words a merchant can act on."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call the host."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "the cloud metadata address"
    if settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE:
        return None
    for name, flag in (
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("an unspecified address", ip.is_unspecified),
        ("a private network address", ip.is_private),
        ("a reserved address", ip.is_reserved),
        ("a non-public address", not ip.is_global),
    ):
        if flag:
            return name
    return None


def check_url(url: str) -> Target:
    """Resolve and check ``url``; raise ``UnsafeURL`` unless every address is allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("Enter a valid web address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("Enter a web address that starts with https://.")
    if scheme == "http" and not settings.PAYLINKS_WEBHOOK_ALLOW_HTTP:
        raise UnsafeURL("Webhooks are sent over https only: enter an https:// address.")
    if parts.username or parts.password:
        raise UnsafeURL("Enter the address without a user name or password.")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURL("Enter a web address with a host name.")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The host {host} could not be found.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeURL(f"The host {host} could not be found.")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise UnsafeURL(
                f"{host} resolves to {address}, {problem}: Paylinks sends webhooks only to "
                "public internet addresses."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)
