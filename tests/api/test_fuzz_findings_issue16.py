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
