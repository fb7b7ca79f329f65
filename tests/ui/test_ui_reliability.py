"""The UI cannot be turned against its machine: it listens on 127.0.0.1 unless told
otherwise, no control names a file, its start-up values are validated, and no request makes
its server read, write or delete files outside what it serves.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from tests.ui.serving import free_port, offline_env, ui_server
from wommsim.config import iter_params
from wommsim.ui import assets, params
from wommsim.ui.__main__ import DEFAULT_HOST, main, parse_args
from wommsim.ui.models import UiModel, ui_config


def test_the_default_host_is_loopback_only():
    assert DEFAULT_HOST == "127.0.0.1"
    assert parse_args([]).host == "127.0.0.1"
    assert parse_args(["--host", "0.0.0.0"]).host == "0.0.0.0"


def test_no_control_names_a_file():
    text_keys = {key for key, f, value in iter_params(params.default_config())
                 if isinstance(value, str) and not f.metadata.get("choices")}
    assert "network.path" in text_keys  # the schema's only file parameter
    assert not {control.key for control in params.controls()} & text_keys
    assert "edgelist" not in params.control("network").choices
    assert set(params.model_params()) == {c.keyword for c in params.controls()}


def test_the_page_cannot_set_other_keywords():
    warnings: list[str] = []
    cfg = ui_config(warnings, consumers=300, network__path="/etc/passwd",
                    network__kind="edgelist")
    assert cfg.network.path == "" and cfg.network.kind == "barabasi_albert"
    assert any("network.path" in w for w in warnings)
    with pytest.raises(ValueError, match=r"network\.path"):
        ui_config(consumers=300, network__path="/etc/passwd")
    model = UiModel(consumers=300, network="edgelist")  # refused choice: the default
    assert model.config.network.kind == params.control("network").value
    assert any("edgelist" in w for w in model.ui_warnings)


@pytest.mark.parametrize("argv,fragment", [
    (["consumers=5"], "consumers"),
    (["network.path=/etc/passwd"], "network.path"),
    (["network=edgelist"], "network"),
    (["seed=abc"], "seed"),
])
def test_start_up_values_are_validated(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("wommsim.ui: ") and fragment in err and "Traceback" not in err


# -- the running server ---------------------------------------------------------------------------

def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                if len(address) == 8:  # IPv4, little-endian
                    found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                else:
                    found.add(address)
    return found


def get(port: int, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    source = assets.cache_dir()
    if assets.missing(source):
        pytest.skip(f"the UI's browser assets are not in {source} "
                    "(python -m wommsim.ui --fetch-assets; .ci/run fetches them)")
    cache = tmp_path_factory.mktemp("ui") / "cdn"  # a linked copy the test may lose files of
    shutil.copytree(source, cache, copy_function=os.link)
    port = free_port()
    with ui_server(port, [], offline_env(**{assets.CACHE_ENV: str(cache)}),
                   lambda: get(port, "/readyz")[0] == 200):
        yield port, cache


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_the_server_listens_on_loopback_only(server):
    port, _ = server
    assert listening_addresses(port) == {"127.0.0.1"}


TRAVERSALS = [
    "/_solara/cdn/../../../../../../etc/passwd",
    "/_solara/cdn/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/_solara/cdn/requirejs@2.3.6/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd",
    "/_solara/cdn/%2fetc%2fpasswd",
    "/_solara/cdn//etc/passwd",
    "/static/../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/public/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/jupyter/nbextensions/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
]


def test_no_request_reads_outside_the_served_folders(server):
    port, cache = server
    outside = cache.parent / "secret.txt"
    outside.write_text("root:secret\n")
    status, body = get(port, "/_solara/cdn/requirejs@2.3.6/require.js")
    assert status == 200 and b"requirejs" in body  # the cache is served
    for path in [*TRAVERSALS, "/_solara/cdn/../secret.txt", "/_solara/cdn/%2e%2e/secret.txt"]:
        status, body = get(port, path)
        assert status != 200 and b"root:" not in body, path


def test_no_request_writes_or_deletes_in_the_asset_folder(server):
    port, cache = server
    before = sorted(p.relative_to(cache) for p in cache.rglob("*"))
    # A folder of the cache (Solara's own proxy deleted it to refetch), a missing package
    # (which it fetched from the CDN and stored), and a missing file of a cached package.
    for path in ["/_solara/cdn/font-awesome@4.5.0/css", "/_solara/cdn/not-a-package@1.0.0/x.js",
                 "/_solara/cdn/requirejs@2.3.6/not-there.js", "/_solara/cdn/requirejs@2.3.6"]:
        status, _ = get(port, path)
        assert status == 404, path
    assert sorted(p.relative_to(cache) for p in cache.rglob("*")) == before
