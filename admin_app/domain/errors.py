"""The few domain errors services raise; views and the API translate each once."""

from __future__ import annotations


class DomainError(Exception):
    """Base: carries a user-facing (lazily translated) message and optional field."""

    status = 400

    def __init__(self, message, *, field: str | None = None, errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.errors = dict(errors or {})
        if field:
            self.errors.setdefault(field, []).append(message)


class BadRequest(DomainError):
    """The request itself cannot be read (malformed JSON, a body that is not an object)."""

    status = 400


class InvalidInput(DomainError):
    status = 422


class TooLarge(DomainError):
    status = 413


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    # Outside-scope access is reported as NotFound (R-SEC-1); Forbidden is for a role
    # that sees the record but may not do this to it.
    status = 403


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    """It was there, and is no more: an exported file past its 24 hours (issue 15)."""

    status = 410
