"""HTML → PDF, behind one small module so the renderer can be swapped (R-IN-7).

pdfkit builds wkhtmltopdf's command line; we run that command ourselves because pdfkit's
own runner has no timeout. Hardening (DESIGN.md): the HTML we render holds no URL from a
user — all user text is escaped by Jinja and images are data URIs — and wkhtmltopdf runs
with local-file access and JavaScript off and every network request sent to a dead-end
proxy. A request that fails through that proxy makes wkhtmltopdf exit 1 although it wrote
the PDF; a PDF on stdout is therefore what counts, not the exit code.
"""

from __future__ import annotations

import shutil
import subprocess

import pdfkit
from flask_babel import lazy_gettext as _l

from admin_app.domain.errors import DomainError

TIMEOUT_SECONDS = 30
OPTIONS = {
    "encoding": "UTF-8",
    "page-size": "A4",
    "margin-top": "12mm",
    "margin-bottom": "12mm",
    "margin-left": "12mm",
    "margin-right": "12mm",
    "print-media-type": None,
    "disable-local-file-access": None,
    "disable-javascript": None,
    "disable-external-links": None,
    "disable-internal-links": None,
    "proxy": "http://127.0.0.1:9",  # nothing listens there: no request leaves
    "quiet": None,
}


# What `make run` prints too (scripts/run-deps.sh): the one command that makes printing work.
INSTALL_COMMAND = "sudo apt-get install wkhtmltopdf"


class PrintFailed(DomainError):
    status = 503


def available() -> bool:
    """Whether this server can print; the print button says how to fix it when not."""
    return shutil.which("wkhtmltopdf") is not None


def not_installed_message():
    return _l(
        "Printing is not available: the PDF program wkhtmltopdf is not installed on the "
        "server. An administrator installs it with: %(command)s",
        command=INSTALL_COMMAND,
    )


def html_to_pdf(html: str) -> bytes:
    """The PDF of ``html``; PrintFailed with a message the user can act on otherwise."""
    binary = shutil.which("wkhtmltopdf")
    if binary is None:
        raise PrintFailed(not_installed_message())
    configuration = pdfkit.configuration(wkhtmltopdf=binary)
    command = pdfkit.PDFKit(html, "string", options=OPTIONS, configuration=configuration).command()
    try:
        result = subprocess.run(
            command,
            input=html.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PrintFailed(_l("Printing took too long; try again in a moment.")) from None
    if not result.stdout.startswith(b"%PDF"):
        raise PrintFailed(_l("The form could not be printed; try again in a moment."))
    return result.stdout
