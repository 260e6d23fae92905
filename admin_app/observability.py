"""Logs an operator can follow: JSON lines, a request id from the web into the jobs it
enqueues, and no mailed token in any log line (issue 17, "See what it does").

The token in /activate/<token> and its kin is a password by another name: whoever reads
the log could use it. Every log line passes the same filter, the werkzeug or gunicorn
access log as much as our own, so a path is redacted wherever it is printed.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

log = logging.getLogger("admin_app.requests")

# An incoming X-Request-ID is kept only if it cannot forge or break a log line (or the
# response header it is written back to: fullmatch, as `$` would let a final newline in).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REDACTED = "…"


def request_id_from(header: str | None) -> str:
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The web request's id, or in a worker the id of the request that enqueued the job."""
    if has_request_context():
        return getattr(g, "request_id", None)
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:
        return None
    return job.meta.get("request_id") if job is not None else None


def token_path_pattern(app: Flask) -> re.Pattern[str]:
    """One pattern for every route with a `<token>` part, taken from the url map so a new
    token route is redacted without anyone remembering to list it here."""
    prefixes = sorted(
        {
            rule.rule.split("<token>")[0]
            for rule in app.url_map.iter_rules()
            if "token" in rule.arguments and "<token>" in rule.rule
        },
        key=len,
        reverse=True,
    )
    if not prefixes:
        return re.compile(r"(?!x)x")
    return re.compile("(" + "|".join(re.escape(p) for p in prefixes) + r")[^/\s?\"'#]+")


def redact(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: m.group(1) + REDACTED, text)


def redact_all(value, pattern: re.Pattern[str]):
    """`redact` on every string inside a Sentry event or breadcrumb (dicts and lists)."""
    if isinstance(value, str):
        return redact(value, pattern)
    if isinstance(value, dict):
        return {key: redact_all(item, pattern) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(item, pattern) for item in value]
    return value


class RedactTokens(logging.Filter):
    """Replaces the token of every token route in the finished message by `…`."""

    def __init__(self, pattern: re.Pattern[str]):
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message, self.pattern)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class DropJobArguments(logging.Filter):
    """rq logs a failed job's arguments and keyword arguments as extra fields, which the
    JSON lines would print: the typed name of a password reset, or whatever a job is
    given. The job's id and function stay, enough to find it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("rq"):
            for name in ("arguments", "kwargs"):
                record.__dict__.pop(name, None)
        return True


class AddRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self, stream=None):
        self._fixed = stream
        super().__init__(stream)

    @property
    def stream(self):
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value):
        self._fixed = value


def log_handler(app: Flask, stream=None) -> logging.Handler:
    """A JSON-lines handler carrying the request id, with tokens redacted."""
    from pythonjsonlogger.json import JsonFormatter

    handler = _StderrHandler(stream)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
        )
    )
    handler.addFilter(AddRequestId())
    handler.addFilter(DropJobArguments())
    handler.addFilter(RedactTokens(token_path_pattern(app)))
    return handler


def install_logging(app: Flask) -> None:
    """The root logger writes JSON to stderr (web, worker, gunicorn alike); once per
    process, as tests build many apps."""
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, "console_json", False):
            root.removeHandler(existing)
    handler = log_handler(app)
    handler.console_json = True
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Access logs of the servers we run under go through the same handler and filters.
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).propagate = True
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, DropDevServerAccessLines) for f in werkzeug.filters):
        werkzeug.addFilter(DropDevServerAccessLines())


class DropDevServerAccessLines(logging.Filter):
    """The development server's access line repeats the console's own request line
    (which has the request id and duration) with terminal colour codes in it; its start-up
    and error lines still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and " - - [" in str(record.msg))


def register_request_ids(app: Flask) -> None:
    @app.before_request
    def take_request_id():
        g.request_id = request_id_from(request.headers.get("X-Request-ID"))
        g.request_started = time.perf_counter()

    @app.after_request
    def give_request_id(response):
        request_id = getattr(g, "request_id", None)
        if request_id:
            response.headers["X-Request-ID"] = request_id
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "endpoint": request.url_rule.rule if request.url_rule else None,
                    "duration_ms": round(
                        (time.perf_counter() - g.get("request_started", time.perf_counter()))
                        * 1000,
                        1,
                    ),
                },
            )
        return response


def for_sentry(event: dict, tokens: re.Pattern[str]) -> dict:
    """What of an event may leave: no query string (a list's search holds a customer's
    name or a plate), no Idempotency-Key, and token routes' tokens as `…` everywhere."""
    request_part = event.get("request")
    if isinstance(request_part, dict):
        request_part.pop("query_string", None)
        headers = request_part.get("headers")
        if isinstance(headers, dict):
            for name in [name for name in headers if name.lower() == "idempotency-key"]:
                del headers[name]
    return redact_all(event, tokens)


def install_sentry(app: Flask) -> None:
    """Errors to Sentry when SENTRY_DSN is set. Customers' names, e-mails and mailed
    tokens live in request bodies, cookies, local variables, query strings and token
    routes' URLs: none of them leave."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    # The request's URL and the log lines (breadcrumbs, taken before our log handler's
    # filter) carry token routes' tokens: redacted in everything that is sent.
    tokens = token_path_pattern(app)
    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration(), RqIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=lambda event, hint: for_sentry(event, tokens),
        before_send_transaction=lambda event, hint: for_sentry(event, tokens),
        before_breadcrumb=lambda crumb, hint: redact_all(crumb, tokens),
    )
