"""The console's Content-Security-Policy: set on every response by the app factory
(flask-talisman) and widened for rq-dashboard's pages alone (views/rq_console)."""

from __future__ import annotations

# Scripts only from the console itself or inline with this response's nonce (FAB's and the
# console's templates print csp_nonce() on every <script>; no inline handlers remain);
# inline styles stay allowed (FAB's widgets and Swagger UI set style= everywhere).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    # Swagger UI and the browsers' own form icons draw data: images.
    "img-src": ["'self'", "data:"],
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
