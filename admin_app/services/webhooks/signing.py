"""An endpoint's signing secret (issue 16, Standard Webhooks): made, kept encrypted under a
key derived from SECRET_KEY, and used to sign each delivery."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from admin_app.models.webhooks import WebhookEndpoint

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def _fernet() -> Fernet:
    # Derived from SECRET_KEY: rotating SECRET_KEY voids every stored secret (the garage
    # rotates its endpoints' secrets after that; DESIGN-NOTES).
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"console webhook secrets"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    """``whsec_`` and 24 random bytes in base64, as Standard Webhooks' libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str:
    """The secret; raises InvalidToken when it was stored under another SECRET_KEY."""
    return _fernet().decrypt(stored.encode()).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The current secret, and the previous one during a rotation's overlap."""
    found = [decrypt_secret(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > now
    ):
        try:
            found.append(decrypt_secret(endpoint.previous_secret_encrypted))
        except InvalidToken:
            pass
    return found
