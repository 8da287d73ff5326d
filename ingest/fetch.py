"""Fetching articles by URL and reading the links of RSS and Atom feeds, safely.

A link typed into the CLI or the chat is untrusted input, so :func:`fetch` guarantees:

- only ``http`` and ``https``, on every redirect hop; at most 5 redirects, followed here so
  that each hop is checked like the first;
- one deadline, ``timeout`` seconds, for the whole fetch: each connect and read waits at
  most the time left, and the deadline is checked between reads (so a reply that drips
  forever ends at most one read wait past it);
- the body streamed and cut off past ``max_bytes`` (refused early by its Content-Length);
- only web pages, plain text, PDF and feeds accepted, by media type;
- with ``allow_private=False``, no connection to a loopback, private, link-local,
  unspecified, reserved or multicast address. Each host is looked up here once, refused if
  any of its addresses is not public, and the connection goes to a checked address, with
  the name kept as the Host header and as the TLS server name (so certificates are still
  verified against the name). A name that answers differently the second time (DNS
  rebinding) gains nothing: there is no second time.
- a plain client: its own User-Agent, compressed bodies decoded, no cookies sent or kept
  (connections go to addresses, where cookies would be shared by every site on one
  address), no proxy, ``.netrc`` or certificate settings from the environment.

Name lookups use the system resolver and its own timeout, outside the deadline.
:func:`feed_items` hands feedparser the bytes in a stream, never a string it could take
for a URL or a path to open; what it can read of a slightly broken feed is kept. Every failure is an
:class:`~assistant.core.errors.IngestError` of one line: ``"<url>: <reason>"``.
"""

from __future__ import annotations

import calendar
import io
import ipaddress
import logging
import re
import socket
import time
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from assistant.core.errors import IngestError

if TYPE_CHECKING:
    import httpx
    from feedparser import FeedParserDict

__all__ = ["FeedItem", "Fetched", "feed_items", "fetch", "is_public_address", "looks_like_feed"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
USER_AGENT = "article-assistant/0.1"
ACCEPT = (
    "text/html,application/xhtml+xml;q=0.9,application/rss+xml;q=0.8,application/atom+xml;q=0.8,"
    "application/xml;q=0.7,text/xml;q=0.7,text/plain;q=0.6,application/pdf;q=0.5,*/*;q=0.1"
)
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})
ACCEPTED_TYPES = FEED_TYPES | {
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "application/pdf",
    "application/xml",
    "text/xml",
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAME_NOT_FOUND = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


@dataclass(frozen=True, slots=True)
class Fetched:
    """A downloaded resource: where it ended up, what it says it is, and its bytes."""

    url: str  # the final URL, after redirects
    requested: str  # the URL asked for
    content_type: str  # lower-case media type without parameters, "text/html"
    charset: str | None  # lower-case, from the Content-Type header
    data: bytes


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed: its absolute link, its title and its date when it has one."""

    url: str
    title: str
    published: str | None  # ISO 8601 date, "2021-08-27" (UTC)


class _Failed(Exception):
    """A reason to give up on a URL; :func:`fetch` prefixes it with the URL asked for."""


def fetch(url: str, *, timeout: float = 20.0, max_bytes: int, allow_private: bool = True) -> Fetched:
    """Download ``url`` within ``timeout`` seconds and ``max_bytes``, or raise :class:`IngestError`.

    ``allow_private=False`` refuses hosts on loopback, private or local addresses (use it
    for links from other people, as in a shared chat).
    """
    from http.cookiejar import CookieJar, DefaultCookiePolicy

    import httpx

    deadline = time.monotonic() + timeout
    client = httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # accepts none
        follow_redirects=False,
        trust_env=False,
    )
    try:
        with client:
            return _fetch(client, url, deadline, max_bytes, allow_private)
    except _Failed as e:
        raise IngestError(f"{url}: {e}") from e.__cause__
    except httpx.InvalidURL as e:
        raise IngestError(f"{url}: not a valid link: {e}") from e
    except (httpx.TimeoutException, TimeoutError) as e:
        raise IngestError(f"{url}: timed out after {timeout:g} s") from e
    except httpx.HTTPError as e:
        raise IngestError(f"{url}: download failed: {e}") from e


def _fetch(client: httpx.Client, url: str, deadline: float, max_bytes: int, allow_private: bool) -> Fetched:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = _checked_url(current)
        host = target.raw_host.decode("ascii")
        addresses = _addresses(host, target.port or (443 if target.scheme == "https" else 80), allow_private)
        with closing(_send(client, target, host, addresses, deadline)) as response:
            if response.is_redirect:
                current = str(target.join(response.headers["Location"]))
                log.debug("%s redirects to %s", target, current)
                continue
            if not response.is_success:
                raise _Failed(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            content_type, charset = _media_type(response.headers.get("Content-Type", ""))
            if content_type not in ACCEPTED_TYPES:
                raise _Failed(f"not a web page: {content_type or 'no content type given'}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _Failed(f"{int(length) / 2**20:.3g} MB is over the {_megabytes(max_bytes)} limit")
            data = _read(response, max_bytes, deadline)
            return Fetched(str(target), url, content_type, charset, data)
    raise _Failed(f"more than {MAX_REDIRECTS} redirects")


def _checked_url(url: str) -> httpx.URL:
    import httpx

    target = httpx.URL(url)
    if target.scheme not in ("http", "https"):
        raise _Failed(f"only http and https links can be fetched: {url}")
    if not target.raw_host:
        raise _Failed(f"not a valid link: no host in {url}")
    if target.port is not None and not 0 < target.port < 2**16:  # getaddrinfo would wrap it around
        raise _Failed(f"not a valid link: no port {target.port}")
    return target


def _addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The IP addresses of ``host``, each checked when private ones are not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        reason = "name not found" if e.errno in _NAME_NOT_FOUND else (e.strerror or str(e)).lower()
        raise _Failed(f"cannot connect to {host}: {reason}") from e
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise _Failed(f"refused: {host} is a private or local address")
    return addresses


def is_public_address(address: str) -> bool:
    """Whether an IP address is public: not loopback, private, link-local, unspecified,
    reserved or multicast. An IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4,
    NAT64) is judged by the IPv4 address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        ip = ip.ipv4_mapped or ip.sixtofour or nat64 or ip
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
        or ip.is_multicast
    )


def _send(
    client: httpx.Client, target: httpx.URL, host: str, addresses: list[str], deadline: float
) -> httpx.Response:
    """The streamed response of ``target`` from the first of ``addresses`` that accepts a connection.

    The request goes to the address itself, with the name as Host header and TLS server name.
    """
    import httpx

    error: httpx.ConnectError | None = None
    for address in addresses:
        request = client.build_request(
            "GET",
            target.copy_with(host=address),
            headers={"Host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": host},
            timeout=_time_left(deadline),
        )
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as e:
            error = e
    raise _Failed(f"cannot connect to {host}: {_connect_reason(error)}") from error


def _connect_reason(error: Exception | None) -> str:
    """The operating system's or TLS's reason behind a connection error, in a few words."""
    import ssl

    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS failed: {cause.reason or cause}"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return str(error) or type(error).__name__


def _time_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _media_type(header: str) -> tuple[str, str | None]:
    """``"text/html; charset=UTF-8"`` -> ``("text/html", "utf-8")``."""
    media_type, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            charset = value.strip(" \"'").lower()
    return media_type.strip().lower(), charset


def _read(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _Failed(f"over the {_megabytes(max_bytes)} limit")
        chunks.append(chunk)
        _time_left(deadline)
    return b"".join(chunks)


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.3g} MB"


# the first element of an XML document, after a byte order mark, declaration, comments and doctype
_XML_ROOT = re.compile(rb"(?:\s|<\?.*?\?>|<!--.*?-->|<!(?i:DOCTYPE)[^>]*>)*<([A-Za-z_][\w.:-]*)", re.DOTALL)


def looks_like_feed(content_type: str, data: bytes) -> bool:
    """Whether a download is an RSS or Atom feed: by its media type, or by an XML root element
    of ``rss``, ``feed`` or ``rdf:RDF`` (an HTML page is not a feed)."""
    if content_type in FEED_TYPES:
        return True
    match = _XML_ROOT.match(data[:4096].removeprefix(b"\xef\xbb\xbf"))
    return bool(match) and match.group(1).rpartition(b":")[2].lower() in (b"rss", b"feed", b"rdf")


def feed_items(data: bytes, base_url: str, limit: int | None) -> list[FeedItem]:
    """The linked items of a feed, newest first (undated ones last, in feed order), at most
    ``limit`` (None: all).

    An item's date is its published date, else its updated one. Relative links are resolved
    against ``base_url``, the feed's own URL; items without a link are left out. A document
    that is not a readable RSS or Atom feed raises :class:`IngestError`.
    """
    import feedparser

    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    # bytes in a stream, as feedparser would fetch a string that looks like a URL or a path;
    # application/xml: the encoding comes from the XML declaration or byte order mark
    headers = {"content-location": base_url, "content-type": "application/xml"}
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    dated: list[tuple[int, FeedItem]] = []  # (seconds since the epoch, item)
    undated: list[FeedItem] = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        item = FeedItem(
            url=urljoin(base_url, link.strip()),
            title=" ".join(entry.get("title", "").split()),
            published=time.strftime("%Y-%m-%d", when) if when else None,
        )
        if when:
            dated.append((calendar.timegm(when), item))
        else:
            undated.append(item)
    dated.sort(key=lambda pair: -pair[0])  # stable: equal dates keep their feed order
    items = [item for _, item in dated] + undated
    if not parsed.version or (parsed.bozo and not items):  # what feedparser read of a broken feed is kept
        raise IngestError(f"{base_url}: not a readable feed: {_feed_problem(parsed)}")
    return items if limit is None else items[:limit]


def _feed_problem(parsed: FeedParserDict) -> str:
    """Why feedparser could not read a document, in one line."""
    error = parsed.get("bozo_exception")
    if error is None:
        return "no RSS or Atom feed found"
    from xml.sax import SAXException

    message = error.getMessage() if isinstance(error, SAXException) else str(error)  # no "<unknown>:2:0:"
    return message.splitlines()[0] if message.strip() else type(error).__name__
