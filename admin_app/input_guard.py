"""Refusals every request gets before any view reads it (issue 13, R-X-4: never a 500 for
bad input). Each endpoint checks its own fields with its schema or form; what is refused
here is refused everywhere, whatever the endpoint:

- JSON nested deeper than MAX_JSON_DEPTH: Python's parser recurses and raised
  RecursionError (a 500) at about 1,000 levels, also on the unauthenticated API login.
- JSON that is not JSON (NaN, Infinity, 1e999): Python's parser takes them, PostgreSQL and
  our amounts do not.
- NUL characters in a query argument, form field, file name or JSON string: PostgreSQL
  refuses "\\x00" in text, so any of them that reached a query was a 500.
- A query argument longer than MAX_QUERY_VALUE: no search needs it; a 100,000-character
  value was echoed into FAB's page history in the session cookie (>64 KB) and into LIKE
  patterns SQLite refuses as too complex.

The API answers 400 in the contract's shape; a screen flashes the message and goes back.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Flask, abort, flash, jsonify, redirect, request
from flask_babel import lazy_gettext as _l

MAX_JSON_DEPTH = 32  # our deepest body (an inspection form's results) is 3
# Our largest JSON body (a whole inspection form, every remark full) is ~60 KB; the depth
# count walks a body in Python at ~1 s per 10 MB, so nothing near the upload limit is read.
MAX_JSON_BYTES = 1024 * 1024
MAX_QUERY_VALUE = 2000  # characters; a search or a filter is a few dozen


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in ``data``, counted without parsing (so without
    recursion); brackets inside strings do not count."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _has_nul(value) -> bool:
    """NUL anywhere in a parsed JSON value, keys included (depth is bounded by now)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_refusal():
    if (request.content_length or 0) > MAX_JSON_BYTES:
        return _l("The body is too large.")
    data = request.get_data(cache=True)
    if len(data) > MAX_JSON_BYTES:  # sent in chunks, without a length
        return _l("The body is too large.")
    if not data.strip():
        return None
    if json_depth(data) > MAX_JSON_DEPTH:
        return _l("The body is nested too deeply.")
    try:
        body = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return _l("The body is not valid JSON.")
    if any(isinstance(v, float) and v in (float("inf"), float("-inf")) for v in _numbers(body)):
        return _l("The body is not valid JSON.")
    if _has_nul(body):
        return _l("Text may not contain NUL characters.")
    return None


def _numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def _text_refusal():
    for source in (request.args, request.form):
        for key, values in source.lists():
            # A multipart part whose name werkzeug cannot read has the key None (issue 16,
            # schemathesis: a 500 on the customer-list upload).
            if "\x00" in (key or "") or any("\x00" in v for v in values):
                return _l("Text may not contain NUL characters.")
    for values in request.args.listvalues():
        if any(len(value) > MAX_QUERY_VALUE for value in values):
            return _l("The address is too long.")
    for upload in request.files.values():
        if "\x00" in (upload.filename or ""):
            return _l("Text may not contain NUL characters.")
    if "\x00" in request.path:
        return _l("Text may not contain NUL characters.")
    return None


def _back() -> str:
    """Where a refused screen request goes: a GET to its page without the arguments; a
    POST to the page it came from if that is ours (never elsewhere: no open redirect)."""
    if request.method == "GET":
        return request.path
    referrer = request.referrer or ""
    return referrer if referrer and urlsplit(referrer).netloc == request.host else "/"


def _reads_json() -> bool:
    """JSON bodies: the API reads any body that is not a form as JSON (json_body forces it)."""
    from admin_app.api.errors import _is_api

    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return False
    return request.is_json or _is_api()


MAX_ID = 2**31 - 1  # every key is a 32-bit Integer column


def _id_out_of_range() -> bool:
    """An id in the path no row can have: FAB's own get/show/edit bind it as is, and a
    30-digit number overflowed the database driver (a 500)."""
    for value in (request.view_args or {}).values():
        # isdecimal, not isdigit: "²" or "①" is a digit that int() refuses (a 500).
        if isinstance(value, str) and value.isdecimal():
            value = int(value) if len(value) < 20 else MAX_ID + 1
        if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
            return True
    return False


def refuse_bad_input():
    """before_request: None, or the refusal of a request no endpoint should read."""
    from admin_app.api.errors import _is_api, error_body

    if _id_out_of_range():
        abort(404)

    refusal = _text_refusal()
    if refusal is None and request.method != "GET" and _reads_json():
        refusal = _json_refusal()
    if refusal is None:
        return None
    if _is_api():
        return jsonify(error_body(400, refusal)), 400
    flash(str(refusal), "danger")
    return redirect(_back())


def register_input_guard(app: Flask) -> None:
    app.before_request(refuse_bad_input)
