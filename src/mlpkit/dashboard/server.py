"""The dashboard's web server: the standard library's ``ThreadingHTTPServer`` in a daemon thread.

It listens on 127.0.0.1 only (``port=0`` picks a free port) and serves:

=========================  =====  ==================================================================
path                       verb   what
=========================  =====  ==================================================================
``/``                      GET    the page (``static/index.html``)
``/dashboard.js``, ``.css`` GET   its script and style sheet (no third-party code, nothing external)
``/api/state?since=N``     GET    the JSON snapshot, history from epoch ``N`` on (``TrainingState``)
``/api/control``           POST   ``{"action": "pause" | "resume" | "stop"}``
``/api/params``            POST   ``{"learning_rate_init": 0.01, "momentum": 0.5}`` (those the solver allows)
``/plot.js``               GET    the chart drawing shared with the runs page (``runs.py``)
=========================  =====  ==================================================================

POST answers ``{"ok": true, "state": ...}`` or, with status 400, ``{"ok": false, "error": "..."}``.
POSTs must be ``Content-Type: application/json`` and every request must name this
server in its ``Host`` header: a web page from elsewhere can then neither send commands
(a cross-origin JSON POST needs a preflight this server never grants) nor read the
state through a rebound DNS name.

``LocalServer`` is that machinery for any page: static files, GET and POST routes
(functions of the query and body returning JSON, raising ``BadRequest``), the
``Host`` check and the headers; ``DashboardServer`` is it with the training
page's routes, and ``runs.RunsServer`` with the runs page's.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from .state import TrainingState

#: Address the server binds: this machine only.
HOST = "127.0.0.1"

#: How often the serving thread looks for a shutdown request (seconds): ``close()`` takes about this long.
SHUTDOWN_POLL_SECONDS = 0.05

#: Largest request body accepted (bytes).
MAX_BODY = 16 * 1024

#: URL path -> (file in ``static/``, content type).
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/plot.js": ("plot.js", "text/javascript; charset=utf-8"),
}

#: Sent with every answer: nothing is cached, and the page loads nothing from elsewhere.
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


class BadRequest(Exception):
    """A request this server refuses; the message goes back to the page."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


def training_routes(state: TrainingState) -> tuple[dict, dict]:
    """The training page's GET and POST routes (path -> function(query, body) -> JSON) for one state."""

    def get_state(query: dict, body) -> dict:
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError:
            raise BadRequest("since must be a whole number (the number of epochs the page already has)") from None
        return state.snapshot(since)

    def post_control(query: dict, body) -> dict:
        if not isinstance(body, dict) or "action" not in body:
            raise BadRequest('send {"action": "pause"}, "resume" or "stop"')
        try:
            state.command(body["action"])
        except ValueError as error:
            raise BadRequest(str(error)) from None
        return {"ok": True, "state": state.snapshot()}

    def post_params(query: dict, body) -> dict:
        try:
            accepted = state.change(body)
        except ValueError as error:
            raise BadRequest(str(error)) from None
        return {"ok": True, "accepted": accepted, "state": state.snapshot()}

    return {"/api/state": get_state}, {"/api/control": post_control, "/api/params": post_params}


def _make_handler(api_get: dict, api_post: dict, files: dict, allowed_hosts: set):
    """A request handler class serving ``files`` and the routes, to requests naming ``allowed_hosts``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "mlpkit-dashboard"

        def log_message(self, format, *args):
            pass  # quiet: the training's own output matters more

        def do_GET(self):
            self._answer(self._get)

        def do_POST(self):
            self._answer(self._post)

        def _get(self, path, query):
            if path in files:
                return files[path]
            if path in api_get:
                return api_get[path](query, None)
            raise BadRequest(f"no page {path}", HTTPStatus.NOT_FOUND)

        def _post(self, path, query):
            if path not in api_post:
                raise BadRequest(f"no command {path}", HTTPStatus.NOT_FOUND)
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                raise BadRequest("commands must be sent as application/json", HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise BadRequest("request too large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise BadRequest("the request body is not valid JSON") from None
            return api_post[path](query, body)

        def _answer(self, route):
            try:
                if self.headers.get("Host") not in allowed_hosts:
                    raise BadRequest("this dashboard answers only to its own address", HTTPStatus.FORBIDDEN)
                parts = urlsplit(self.path)
                result = route(parts.path, parse_qs(parts.query))
                if isinstance(result, tuple):  # a static file: (bytes, content type)
                    self._send(HTTPStatus.OK, *result)
                else:
                    self._send(HTTPStatus.OK, json.dumps(result).encode(), "application/json")
            except BadRequest as error:
                body = json.dumps({"ok": False, "error": str(error)}).encode()
                self._send(error.status, body, "application/json")

        def _send(self, status, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in COMMON_HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler


class LocalServer:
    """Serves static files and JSON routes on 127.0.0.1 at ``url`` from a daemon thread, until ``close()``.

    ``static_files``: URL path -> (file in ``static/``, content type); ``api_get`` and
    ``api_post``: URL path -> function(query, body) returning the JSON answer; ``title``
    names the page in the error for a port it cannot listen on.
    """

    def __init__(self, static_files: dict, api_get: dict, api_post: dict, port: int = 0, title: str = "dashboard"):
        try:
            self._httpd = ThreadingHTTPServer((HOST, int(port)), BaseHTTPRequestHandler)
        except OSError as error:
            raise OSError(
                f"the {title} cannot listen on {HOST} port {port}: {error.strerror or error};"
                " pick another port, or port=0 for a free one"
            ) from None
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        files = {path: (_static(file), kind) for path, (file, kind) in static_files.items()}
        allowed = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self._httpd.RequestHandlerClass = _make_handler(api_get, api_post, files, allowed)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"mlpkit-{title.replace(' ', '-')}-{self.port}", daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def close(self) -> None:
        """Stop serving and free the port (waits for the serving thread to end)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DashboardServer(LocalServer):
    """Serves one ``TrainingState`` at ``url`` from a daemon thread, until ``close()``."""

    def __init__(self, state: TrainingState, port: int = 0):
        self.state = state
        super().__init__(STATIC_FILES, *training_routes(state), port=port, title="dashboard")
