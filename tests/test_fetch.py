"""Fetching by URL and reading feeds, against real HTTP servers on 127.0.0.1 started here."""

from __future__ import annotations

import datetime
import gzip
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import ingest.fetch
from assistant.core.errors import IngestError
from ingest.fetch import FeedItem, feed_items, fetch, is_public_address, looks_like_feed
from tests.conftest import free_port

LIMIT = 2**16  # max_bytes in these tests: "0.0625 MB"
PAGE = b"<html><head><title>A page</title></head><body><p>Some text.</p></body></html>"
RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>http://127.0.0.1/</link><description>d</description>
<item><title>Older</title><link>/news/older</link><pubDate>Mon, 02 Aug 2021 10:00:00 GMT</pubDate></item>
<item><title>Undated  first</title><link>news/undated-1</link></item>
<item><title>Newest</title><link>https://example.org/newest</link>
  <pubDate>Fri, 27 Aug 2021 08:00:00 +0000</pubDate></item>
<item><title>No link</title><description>left out</description></item>
<item><title>Undated second</title><link>/news/undated-2</link></item>
<item><title>Middle</title><link>/news/middle</link><pubDate>Sun, 15 Aug 2021 23:30:00 -0200</pubDate></item>
</channel></rss>
"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title><id>urn:news</id>
<updated>2021-08-27T00:00:00Z</updated>
<entry><title>First</title><link href="/a/first"/><id>urn:1</id>
  <updated>2021-08-01T00:00:00Z</updated></entry>
<entry><title>Second</title><link rel="alternate" href="second"/><id>urn:2</id>
  <published>2021-08-20T12:00:00Z</published><updated>2021-08-25T00:00:00Z</updated></entry>
</feed>
"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)

# path -> (status, headers, body)
ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/page": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE),
    "/latin": (200, {"Content-Type": 'text/plain; charset="ISO-8859-1"'}, "Café".encode("latin-1")),
    "/redirect": (302, {"Location": "/page"}, b""),
    "/missing": (404, {"Content-Type": "text/html"}, b"<p>gone</p>"),
    "/image": (200, {"Content-Type": "image/png"}, PNG),
    "/report": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%%EOF\n"),
    "/feeds/rss": (200, {"Content-Type": "application/rss+xml"}, RSS),
    "/feeds/atom": (200, {"Content-Type": "application/atom+xml; charset=utf-8"}, ATOM),
    "/gzip": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip.compress(PAGE)),
    "/set-cookie": (302, {"Set-Cookie": "session=1; Path=/", "Location": "/echo"}, b""),
    "/to-ftp": (301, {"Location": "ftp://example.org/file"}, b""),
    "/to-private": (302, {"Location": "http://10.0.0.1/page"}, b""),
    # claims more than LIMIT and sends nothing: only the header can refuse it
    "/declared-big": (200, {"Content-Type": "text/html", "Content-Length": str(16 * LIMIT)}, b""),
}


class Handler(BaseHTTPRequestHandler):
    """The routes above, plus redirect chains, a slow, a dripping, a streamed and an echoing reply."""

    server: Server

    def do_GET(self) -> None:
        with suppress(OSError):  # the client hung up, as fetch does past a limit or a deadline
            self._route()

    def _route(self) -> None:
        if self.path in ROUTES:
            status, headers, body = ROUTES[self.path]
            self._reply(status, headers, body)
        elif self.path.startswith("/hop/"):  # /hop/N redirects N times before the page
            hops = int(self.path.removeprefix("/hop/"))
            self._reply(302, {"Location": f"/hop/{hops - 1}" if hops else "/page"}, b"")
        elif self.path == "/echo":  # the request's headers, as JSON
            self._reply(200, {"Content-Type": "text/plain"}, json.dumps(dict(self.headers)).encode())
        elif self.path == "/slow":
            if not self.server.stop.wait(5):
                self._reply(200, {"Content-Type": "text/html"}, PAGE)
        elif self.path == "/drip":  # a byte every 50 ms until the client hangs up
            self._reply(200, {"Content-Type": "text/plain", "Content-Length": "1000"}, b"")
            while not self.server.stop.wait(0.05):
                self.wfile.write(b"x")
        elif self.path == "/streamed-big":  # no Content-Length: the body ends when the server closes
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(16 * LIMIT // 4096):
                self.wfile.write(bytes(4096))
        else:
            self._reply(404, {}, b"")

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    """A server on 127.0.0.1 whose waiting handlers end when :attr:`stop` is set."""

    stop: threading.Event


@contextmanager
def serve(context: ssl.SSLContext | None = None) -> Iterator[Server]:
    """A :class:`Server` (over TLS with ``context``) running in a thread while in the block."""
    server = Server(("127.0.0.1", 0), Handler)
    server.stop = threading.Event()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """The address of a plain HTTP test server: ``http://127.0.0.1:<port>``."""
    with serve() as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def _fetch(url: str, **options) -> ingest.fetch.Fetched:
    return fetch(url, max_bytes=LIMIT, **options)


def _refusal(url: str, **options) -> str:
    with pytest.raises(IngestError) as caught:
        _fetch(url, **options)
    message = str(caught.value)
    assert message.startswith(f"{url}: ") and "\n" not in message
    return message.removeprefix(f"{url}: ")


def test_a_page_is_fetched_with_its_type_and_charset(base: str) -> None:
    page = _fetch(f"{base}/page")
    assert (page.url, page.requested, page.data) == (f"{base}/page", f"{base}/page", PAGE)
    assert (page.content_type, page.charset) == ("text/html", "utf-8")


def test_a_charset_in_the_header_is_kept(base: str) -> None:
    text = _fetch(f"{base}/latin")
    assert (text.content_type, text.charset) == ("text/plain", "iso-8859-1")
    assert text.data.decode(text.charset) == "Café"


def test_a_pdf_is_accepted(base: str) -> None:
    pdf = _fetch(f"{base}/report")
    assert (pdf.content_type, pdf.charset, pdf.data[:5]) == ("application/pdf", None, b"%PDF-")


def test_a_plain_client_names_itself_takes_compression_and_keeps_no_cookies(base: str) -> None:
    headers = json.loads(_fetch(f"{base}/set-cookie").data)  # set a cookie, then redirect to /echo
    assert headers["User-Agent"] == "article-assistant/0.1"
    assert headers["Accept"].startswith("text/html,")
    assert "gzip" in headers["Accept-Encoding"]
    assert "Cookie" not in headers
    assert _fetch(f"{base}/gzip").data == PAGE


def test_redirects_are_followed_up_to_five(base: str) -> None:
    assert _fetch(f"{base}/redirect").url == f"{base}/page"
    five = _fetch(f"{base}/hop/4")  # 4 hops, then /hop/0 -> /page: 5 redirects
    assert (five.url, five.requested, five.data) == (f"{base}/page", f"{base}/hop/4", PAGE)
    assert _refusal(f"{base}/hop/5") == "more than 5 redirects"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "HTTP 404 Not Found"),
        ("/image", "not a web page: image/png"),
        ("/declared-big", "1 MB is over the 0.0625 MB limit"),
        ("/streamed-big", "over the 0.0625 MB limit"),
        ("/to-ftp", "only http and https links can be fetched: ftp://example.org/file"),
    ],
)
def test_unusable_replies_are_refused_with_a_reason(base: str, path: str, reason: str) -> None:
    assert _refusal(f"{base}{path}") == reason


@pytest.mark.parametrize("url", ["ftp://example.org/file", "file:///etc/passwd", "example.org/page"])
def test_only_http_and_https_links_are_fetched(url: str) -> None:
    assert _refusal(url) == f"only http and https links can be fetched: {url}"


@pytest.mark.parametrize(
    ("url", "reason"),
    [("https://", "no host in https://"), ("http://127.0.0.1:70000/", "no port 70000")],
)
def test_a_link_without_a_usable_host_or_port_is_refused(url: str, reason: str) -> None:
    assert _refusal(url) == f"not a valid link: {reason}"


def test_a_slow_reply_times_out(base: str) -> None:
    assert _refusal(f"{base}/slow", timeout=0.5) == "timed out after 0.5 s"


def test_a_reply_that_never_ends_meets_the_deadline(base: str) -> None:
    """Every byte comes well within the read timeout; the whole download still has a deadline."""
    assert _refusal(f"{base}/drip", timeout=0.5) == "timed out after 0.5 s"


def test_nothing_listening_and_unknown_names_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    assert _refusal(f"http://127.0.0.1:{port}/") == "cannot connect to 127.0.0.1: connection refused"

    def no_such_name(*args: object, **kwargs: object) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)  # no real lookup leaves the test
    assert _refusal("http://example.invalid/") == "cannot connect to example.invalid: name not found"


def test_https_to_a_plain_http_server_says_tls_failed(base: str) -> None:
    url = base.replace("http://", "https://") + "/page"
    assert _refusal(url).startswith("cannot connect to 127.0.0.1: TLS failed: ")


def test_private_addresses_are_refused_when_asked(base: str) -> None:
    port = base.rpartition(":")[2]
    for host in ("127.0.0.1", "localhost", "[::1]"):
        name = host.strip("[]")
        assert _refusal(f"http://{host}:{port}/page", allow_private=False) == (
            f"refused: {name} is a private or local address"
        )
    assert _fetch(f"{base}/page", allow_private=True).data == PAGE


def test_a_redirect_to_a_private_address_is_refused(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server stands in for a public one; its redirect to 10.0.0.1 is checked, never followed."""
    monkeypatch.setattr(ingest.fetch, "is_public_address", lambda address: address == "127.0.0.1")
    assert _fetch(f"{base}/page", allow_private=False).data == PAGE
    reason = _refusal(f"{base}/to-private", allow_private=False)
    assert reason == "refused: 10.0.0.1 is a private or local address"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("127.1.2.3", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("0.0.0.0", False),
        ("::", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("8.8.8.8", True),
        ("172.32.0.1", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_the_address_classifier(address: str, public: bool) -> None:
    assert is_public_address(address) is public


class Resolver:
    """Answers 127.0.0.1 for ``name`` the first time and fails after: a rebinding name would
    answer another address the second time, so fetch must look a name up only once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lookups = 0
        self._real = socket.getaddrinfo

    def __call__(self, host: str, *args, **kwargs) -> list:
        if host != self.name:
            return self._real(host, *args, **kwargs)
        self.lookups += 1
        if self.lookups > 1:
            raise socket.gaierror(socket.EAI_NONAME, "looked up twice")
        return self._real("127.0.0.1", *args, **kwargs)


def test_the_connection_goes_to_the_address_checked(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port = base.rpartition(":")[2]
    resolver = Resolver("news.test")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(ingest.fetch, "is_public_address", lambda address: address == "127.0.0.1")
    echoed = _fetch(f"http://news.test:{port}/echo", allow_private=False)
    assert echoed.url == f"http://news.test:{port}/echo"
    assert json.loads(echoed.data)["Host"] == f"news.test:{port}"
    assert resolver.lookups == 1


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS test server with a certificate for news.test only: its port and its CA file."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool, names: list[str]) -> bytes:
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    folder = tmp_path_factory.mktemp("tls")
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(certificate("Test CA", ca_key, "Test CA", ca_key, True, []))
    cert_file.write_bytes(certificate("news.test", key, "Test CA", ca_key, False, ["news.test"]))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    with serve(context) as server:
        yield str(server.server_address[1]), ca_file


def test_https_checks_the_certificate_against_the_name_not_the_address(
    tls: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca_file = tls
    import certifi

    monkeypatch.setattr(certifi, "where", lambda: str(ca_file))  # trust the test CA only
    monkeypatch.setattr(socket, "getaddrinfo", Resolver("news.test"))
    echoed = _fetch(f"https://news.test:{port}/echo")
    assert json.loads(echoed.data)["Host"] == f"news.test:{port}"

    monkeypatch.setattr(socket, "getaddrinfo", Resolver("other.test"))
    reason = _refusal(f"https://other.test:{port}/echo")
    assert reason.startswith("cannot connect to other.test: certificate not trusted: "), reason


def test_rss_items_come_newest_first_with_absolute_links(base: str) -> None:
    feed = _fetch(f"{base}/feeds/rss")
    assert looks_like_feed(feed.content_type, feed.data)
    assert feed_items(feed.data, feed.url, None) == [
        FeedItem("https://example.org/newest", "Newest", "2021-08-27"),
        FeedItem(f"{base}/news/middle", "Middle", "2021-08-16"),  # 23:30 at -0200 is the 16th in UTC
        FeedItem(f"{base}/news/older", "Older", "2021-08-02"),
        FeedItem(f"{base}/feeds/news/undated-1", "Undated first", None),
        FeedItem(f"{base}/news/undated-2", "Undated second", None),
    ]
    assert [item.title for item in feed_items(feed.data, feed.url, 2)] == ["Newest", "Middle"]
    assert feed_items(feed.data, feed.url, 0) == []


def test_atom_entries_come_newest_first_with_absolute_links(base: str) -> None:
    feed = _fetch(f"{base}/feeds/atom")
    assert feed.content_type == "application/atom+xml"
    assert looks_like_feed(feed.content_type, feed.data)
    assert feed_items(feed.data, feed.url, 5) == [
        FeedItem(f"{base}/feeds/second", "Second", "2021-08-20"),  # published, before updated
        FeedItem(f"{base}/a/first", "First", "2021-08-01"),
    ]


@pytest.mark.parametrize(
    ("content_type", "data", "feed"),
    [
        ("application/rss+xml", RSS, True),
        ("text/xml", RSS, True),
        ("application/xml", b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- a comment -->\n<rdf:RDF/>", True),
        ("text/plain", ATOM, True),
        ("text/html", PAGE, False),
        ("application/xml", b"<?xml version='1.0'?><svg/>", False),
        ("text/plain", b"rss feed", False),
    ],
)
def test_looks_like_feed(content_type: str, data: bytes, feed: bool) -> None:
    assert looks_like_feed(content_type, data) is feed


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (PAGE, "no RSS or Atom feed found"),
        (b"not xml at all", "syntax error"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</ti', "unclosed token"),
    ],
)
def test_an_unreadable_feed_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(IngestError) as caught:
        feed_items(data, "https://example.org/feed", None)
    assert str(caught.value) == f"https://example.org/feed: not a readable feed: {reason}"
