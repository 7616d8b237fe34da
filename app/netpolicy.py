"""The network guard's allow-list: which hosts count as local, and which servers the user chose.

Kept apart from the socket patches (:mod:`app.netguard`) so the policy reads on its own:
loopback/unspecified addresses, ``localhost`` names and this machine's own host name are
local; a server is allowed only as the exact (host, port) of a URL the user configured,
either registered explicitly (:func:`allow_urls`) or read live from a settings object
(:func:`allow_settings`), so a server entered in Settings is allowed at once and one that
is removed is refused at once.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import weakref
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

#: Settings fields that name a server the user chose (used when settings lack ``remote_urls()``).
URL_FIELDS = ("llm_remote_url", "index_server_url")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_RESOLVE_TTL_S = 60.0
Resolver = Callable[..., Any]


class _Policy:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.static_urls: dict[str, tuple[str, ...]] = {}
        self.settings_refs: dict[int, tuple[weakref.ref, int]] = {}  # id -> (ref, services using it)
        self.resolved: dict[tuple[str, int], tuple[float, frozenset[str]]] = {}


_P = _Policy()


def allow_urls(urls: Iterable[str], key: str = "default") -> None:
    """Allow the hosts of these server URLs (replaces the earlier list given under ``key``)."""
    with _P.lock:
        _P.static_urls[key] = tuple(u for u in urls if u)
        _P.resolved.clear()


def allow_settings(settings: Any) -> None:
    """Allow the servers named in this settings object, read at each check. Held weakly
    (settings that are gone allow nothing) and counted (several services may share one)."""
    with _P.lock:
        held = _P.settings_refs.get(id(settings))
        count = held[1] if held is not None and held[0]() is settings else 0
        _P.settings_refs[id(settings)] = (weakref.ref(settings), count + 1)
        _P.resolved.clear()


def forget_settings(settings: Any) -> None:
    """Stop allowing the servers of these settings (their Service was closed)."""
    with _P.lock:
        held = _P.settings_refs.get(id(settings))
        if held is not None and held[1] > 1 and held[0]() is settings:
            _P.settings_refs[id(settings)] = (held[0], held[1] - 1)
        else:
            _P.settings_refs.pop(id(settings), None)
        _P.resolved.clear()


def snapshot() -> dict[str, tuple[str, ...]]:
    with _P.lock:
        return dict(_P.static_urls)


def restore(saved: dict[str, tuple[str, ...]]) -> None:
    with _P.lock:
        _P.static_urls = dict(saved)
        _P.resolved.clear()


def allowed_urls() -> list[str]:
    with _P.lock:
        urls = [u for group in _P.static_urls.values() for u in group]
        for key, (ref, _) in list(_P.settings_refs.items()):
            obj = ref()
            if obj is None:
                del _P.settings_refs[key]
                continue
            listed = getattr(obj, "remote_urls", None)  # Settings.remote_urls(): the servers it names
            urls.extend(listed() if callable(listed) else (str(getattr(obj, f, "") or "") for f in URL_FIELDS))
    return list(dict.fromkeys(u for u in urls if u))


def allowed_endpoints() -> set[tuple[str, int]]:
    """(lower-case host, port) pairs of the allowed servers."""
    out: set[tuple[str, int]] = set()
    for url in allowed_urls():
        endpoint = url_endpoint(url)
        if endpoint is not None:
            out.add(endpoint)
    return out


def url_endpoint(url: str) -> tuple[str, int] | None:
    """(host, port) of a server URL; the scheme's default port when none is given."""
    raw = url.strip()
    parts = urlsplit(raw if "://" in raw else "http://" + raw)
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_local_host(host: str | None) -> bool:
    """Loopback or unspecified addresses, localhost names, and this machine's own name."""
    if host is None or host == "":
        return True
    h = str(host).strip("[]").lower()
    if is_ip(h):
        ip = ipaddress.ip_address(h.split("%", 1)[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        return ip.is_loopback or ip.is_unspecified or bool(mapped and mapped.is_loopback)
    if h in _LOCAL_NAMES or h.endswith(".localhost"):
        return True
    try:
        own = socket.gethostname().lower()
    except OSError:
        own = ""
    return bool(own) and (h == own or h.split(".", 1)[0] == own)


def _allowed_ips(host: str, port: int, resolve: Resolver) -> frozenset[str]:
    """Addresses of an allowed host name, resolved with the original resolver (cached)."""
    now = time.monotonic()
    hit = _P.resolved.get((host, port))
    if hit and now - hit[0] < _RESOLVE_TTL_S:
        return hit[1]
    try:
        infos = resolve(host, port, 0, socket.SOCK_STREAM)
        ips = frozenset(str(i[4][0]).split("%", 1)[0] for i in infos)
    except OSError:
        ips = frozenset()
    _P.resolved[(host, port)] = (now, ips)
    return ips


def endpoint_allowed(host: str, port: int | None, resolve: Resolver) -> bool:
    h = host.strip("[]").lower()
    for ahost, aport in allowed_endpoints():
        if port is not None and port != aport:
            continue
        if h == ahost or (is_ip(h) and not is_ip(ahost) and h.split("%", 1)[0] in _allowed_ips(ahost, aport, resolve)):
            return True
    return False


def name_allowed(host: str) -> bool:
    h = host.strip("[]").lower()
    return any(h == ahost for ahost, _ in allowed_endpoints())
