"""Issue 14: /favicon.ico answered 404 on every page load; the layout links the icon."""

from __future__ import annotations


def test_issue14_favicon_is_served_and_linked(world, browser, login_as):
    anonymous = browser().client
    icon = anonymous.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon" href="/favicon.ico"' in anonymous.get("/login/").get_data(as_text=True)
    page = login_as("garage-jansen").get("/").get_data(as_text=True)
    assert 'rel="icon" href="/favicon.ico"' in page
