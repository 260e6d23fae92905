"""Issue 16, R-X-4: what schemathesis found, each kept as a plain regression test (the
fuzzing itself runs on PostgreSQL only, tests/api/test_schemathesis_issue16.py)."""

BOUNDARY = "d7b29d908b77c3026f6ff3ec2c682d5b"


def test_issue16_upload_with_an_unreadable_part_name_is_no_500(world, api_client):
    """R-X-4 (never a 500 for bad input): a multipart part whose name werkzeug reads as
    None reached `"\\x00" in None` in the input guard."""
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="<br>\n"\r\n\r\nx\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="l.csv"'
        f"\r\n\r\nab\r\n--{BOUNDARY}--\r\n"
    ).encode()
    response = api_client("garage-jansen").post(
        "/api/v1/batch_job/",
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert 400 <= response.status_code < 500
    assert set(response.get_json()) == {"message", "errors"}


def test_issue16_info_describes_no_column_with_the_catalog_header(world, api_client):
    """R-X-2, R-X-4: a column without a description had gettext("") — the Dutch catalog's
    header, "Project-Id-Version: …" — as its description in _info."""
    body = api_client("garage-jansen").get("/api/v1/batch_job/_info").get_json()
    fields = body["add_columns"] + body["edit_columns"]
    assert fields and all("Project-Id-Version" not in f["description"] for f in fields)


def test_issue16_document_matches_what_fab_answers(world, api_client):
    """R-X-4: FAB's own APIs (security, menu) answer 404 to a role without them, and
    _info answers its columns as a list: both are in the document."""
    document = api_client("support").get("/api/v1/_openapi").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "security" in operation:
                assert "404" in operation["responses"], f"{method} {path}"
    info = document["paths"]["/api/v1/passport/_info"]["get"]["responses"]["200"]
    columns = info["content"]["application/json"]["schema"]["properties"]["add_columns"]
    assert columns["type"] == "array"
