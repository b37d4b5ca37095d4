"""Uploads to the owner are bounded: over ``import_max`` a 413 JSON error (declared or streamed
length) or one line from the CLI, nothing imported, nothing left on disk; a line over 1 MiB is
one error naming it. A real owner serving a real socket in this process, the CLI in a subprocess."""

from __future__ import annotations

import http.client
import json
import os
import socket

import pytest

from lifelog.api.client import OwnerError, find_owner
from lifelog.api.protocol import HEADER, PROTOCOL, socket_path
from lifelog.paths import Paths
from tests.api.serving import served
from tests.cli.helpers import lifelog
from tests.support.jsonl_files import write_export


@pytest.fixture
def owner(tmp_path):
    """An owner serving an empty timeline whose import_max is 8 KB."""
    paths = Paths(home=tmp_path / "home")
    paths.ensure()
    paths.config_file.write_text('import_max = "8KB"\n')
    with served(paths):
        yield paths


def _post(paths: Paths, data: bytes, *, chunked: bool = False) -> tuple[int, dict]:
    """POST ``data`` as an upload, its length declared or (``chunked``) not, sent whole before
    the answer is read (the owner may answer before it has read it all)."""
    if chunked:
        framing, body = (
            b"Transfer-Encoding: chunked",
            b"".join(b"%x\r\n%s\r\n" % (len(data[i : i + 1000]), data[i : i + 1000]) for i in range(0, len(data), 1000))
            + b"0\r\n\r\n",
        )
    else:
        framing, body = b"Content-Length: %d" % len(data), data
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(str(socket_path(paths)))
        sock.sendall(
            b"POST /v%d/import-jsonl?name=big.jsonl HTTP/1.1\r\nHost: lifelog\r\n%s: %d\r\n%s\r\n\r\n"
            % (PROTOCOL, HEADER.encode(), PROTOCOL, framing)
            + body
        )
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        return resp.status, json.loads(resp.read())
    finally:
        sock.close()


def _nothing_imported(paths: Paths) -> None:
    assert not list(paths.data.glob(".import-*"))
    remote = find_owner(paths)
    try:
        assert remote.status()["text_spans"] == 0
    finally:
        remote.close()


def test_an_upload_over_import_max_is_a_413_whether_its_length_is_declared_or_not(owner, tmp_path):
    src = tmp_path / "big.jsonl"
    write_export(src, 200)
    data = src.read_bytes()
    assert len(data) > 8000
    status, body = _post(owner, data)
    assert status == 413 and body["exit_code"] == 2
    assert body["error"].startswith(
        f"Cannot import big.jsonl: it is {len(data):,} bytes, over import_max (8,000 bytes)."
    )
    status, body = _post(owner, data, chunked=True)
    assert status == 413 and "over import_max (8,000 bytes)" in body["error"]
    _nothing_imported(owner)

    remote = find_owner(owner)
    try:
        with pytest.raises(OwnerError) as exc:
            remote.import_jsonl(src, name="big.jsonl")
        assert exc.value.exit_code == 2 and "over import_max" in str(exc.value)
        small = tmp_path / "small.jsonl"
        write_export(small, 20)
        assert remote.import_jsonl(small, name="small.jsonl")["inserted"]["seen"] == 20  # under it: imported
    finally:
        remote.close()


def test_the_cli_says_in_one_line_that_a_file_is_over_import_max(owner, tmp_path):
    src = tmp_path / "big.jsonl"
    write_export(src, 200)
    proc = lifelog("import", str(src), env={**os.environ, "LIFELOG_HOME": str(owner.home)}, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"lifelog: error: Cannot import big.jsonl: it is {src.stat().st_size:,} bytes, over import_max (8,000 bytes). "
        "Import it in parts (export shorter ranges with --since/--until) or raise the limit: lifelog config set "
        "import_max 8GB. Nothing was imported."
    ]
    _nothing_imported(owner)
