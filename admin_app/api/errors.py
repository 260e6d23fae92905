"""One place that gives every API refusal the contract's shape (R-X-4):

    {"message": "<text>", "errors": {"field": ["<text>"]}}

in Dutch, or English with ?_l_=en. FAB, Flask-JWT-Extended and Flask-Limiter each answer
errors their own way; rewriting the finished response here keeps the views plain.
"""

from __future__ import annotations

import json

import prison
from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from admin_app.domain.errors import DomainError, NotFound

API_PREFIX = "/api/"
MAX_PAGE = 1_000_000  # beyond any list's last page; OFFSET stays within 64 bits

STATUS_MESSAGES = {
    400: _l("The request is not correct."),
    401: _l("Log in first."),
    403: _l("You may not do this."),
    404: _l("Not found."),
    405: _l("This method is not offered here."),
    409: _l("This conflicts with the current state."),
    413: _l("The file is too large."),
    422: _l("Some fields are not correct."),
    429: _l("Too many attempts; wait a moment and try again."),
    500: _l("Something went wrong on our side."),
}


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(status: int, message=None, errors: dict | None = None) -> dict:
    return {
        "message": str(message or STATUS_MESSAGES.get(status, STATUS_MESSAGES[400])),
        "errors": {
            k: [str(m) for m in (v if isinstance(v, list) else [v])]
            for k, v in (errors or {}).items()
        },
    }


def _reshape(response):
    if not _is_api() or response.status_code < 400:
        return response
    payload = _json_object(response)
    if isinstance(payload.get("message"), str) and isinstance(payload.get("errors"), dict):
        return response  # already ours
    message = payload.get("message", payload.get("msg"))
    if response.status_code == 403 and message == "Forbidden":
        # FAB's "no permission": outside the caller's reach is 404 (R-SEC-1), not 403.
        response.status_code = 404
    response.set_data(json.dumps(_contract_body(response.status_code, message)))
    response.mimetype = "application/json"
    return response


def _json_object(response) -> dict:
    """The refusal's body as FAB or a library wrote it, or {} when it is no JSON object."""
    try:
        payload = json.loads(response.get_data(as_text=True) or "{}")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _contract_body(status: int, message) -> dict:
    """FAB's and the libraries' own texts are English: answer with ours, translated; FAB's
    marshmallow validation errors (a dict as message) become the body's errors."""
    if isinstance(message, dict):
        return error_body(status, None, message)
    if status == 400 and isinstance(message, str) and message.startswith("Not a valid rison"):
        return error_body(status, _l("The query (rison) cannot be read."))
    if status == 400 and isinstance(message, str) and message.startswith("Filter"):
        # FAB's and ConsoleApi's refusals of a filter the list does not offer (issue 16).
        text = str(_l("This list cannot be filtered that way."))
        return error_body(400, text, {"filters": [text]})
    return error_body(status)


def _refuse_unreadable_query():
    """FAB catches only some rison syntax errors; others surface as a 500. Read ``q``
    once here and answer 400 for anything that is not rison."""
    if not _is_api() or "q" not in request.args:
        return None
    try:
        query = prison.loads(request.args["q"])
    except Exception:
        # The document declares `q` as JSON content (FAB's), so Swagger's "Try it out" and
        # generated clients send JSON; FAB reads it too (FAB_API_ALLOW_JSON_QS).
        try:
            query = json.loads(request.args["q"])
        except (ValueError, RecursionError):
            return jsonify(error_body(400, _l("The query (rison) cannot be read."))), 400
    if not isinstance(query, dict):
        return jsonify(error_body(400, _l("The query (rison) cannot be read."))), 400
    # FAB passes the page on to the database as OFFSET: a negative one, or one beyond
    # 64 bits, was a 500 on PostgreSQL (issue 13).
    for key, lowest in (("page", 0), ("page_size", 1)):
        value = query.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= MAX_PAGE
        ):
            return jsonify(
                error_body(
                    400,
                    _l(
                        "%(key)s must be a whole number of at least %(lowest)s.",
                        key=key,
                        lowest=lowest,
                    ),
                    {key: [_l("Not a valid number.")]},
                )
            ), 400
    return None


def register_api_errors(app: Flask) -> None:
    app.before_request(_refuse_unreadable_query)
    app.after_request(_reshape)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if _is_api():
            return jsonify(error_body(error.status, error.message, error.errors)), error.status
        if isinstance(error, NotFound):
            return render_template("console/not_found.html"), 404
        from flask import flash, redirect

        flash(str(error.message), "danger")
        return redirect(request.referrer or "/")

    @app.errorhandler(403)
    def no_permission(error):
        # A page the role may not open does not exist for it (R-SEC-1: 404, not 403).
        if _is_api():
            return jsonify(error_body(404)), 404
        return render_template("console/not_found.html"), 404

    @app.errorhandler(404)
    def not_found(error):
        if _is_api():
            return jsonify(error_body(404)), 404
        return render_template("console/not_found.html"), 404

    @app.errorhandler(CSRFError)
    def form_expired(error: CSRFError):
        if _is_api():
            return jsonify(error_body(400)), 400
        # werkzeug's English "Bad Request: The CSRF token is missing" told a garage nothing.
        return render_template("console/form_expired.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _is_api():
            return jsonify(error_body(error.code or 500)), error.code
        if error.code == 429:
            # The limits of admin_app/limits.py on the pages: the console's words, not
            # werkzeug's English "Too Many Requests".
            return render_template("console/too_many.html"), 429
        return error

    jwt = app.extensions.get("flask-jwt-extended")
    if jwt is not None:
        jwt.unauthorized_loader(lambda reason: (jsonify(error_body(401)), 401))
        jwt.invalid_token_loader(lambda reason: (jsonify(error_body(401)), 401))
        jwt.expired_token_loader(lambda header, data: (jsonify(error_body(401)), 401))
