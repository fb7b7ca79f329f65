"""The UI cannot be turned against its machine: it listens on 127.0.0.1 unless told
otherwise, answers only its own host names and pages, no control names a file, its start-up
values are validated, and no request makes its server read, write or delete files outside
what it serves.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.ui import free_port, offline_env, ui_server
from wommsim.config import iter_params
from wommsim.ui import app, assets, params
from wommsim.ui.__main__ import DEFAULT_HOST, main, parse_args
from wommsim.ui.guard import HostGuard
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
    keywords = {c.keyword for c in params.controls()}
    assert {c.keyword for c in app.model_inputs()} == keywords  # what the pages offer
    assert {c.keyword for c in app.compare_inputs()} == (
        keywords - {"strategy", "market"} | set(app.COMPARE_KEYS))
    duel = {c.keyword for c in app.model_inputs({**app.initial_settings(), "market": "duel"})}
    brands = {c.keyword for c in params.brand_controls()}
    assert brands == {f"market__brands__{b}__{k}" for b in "ab"
                      for k in ("strategy", "budget_per_consumer", "quality")}
    assert duel == keywords - {"strategy", "brand__budget_per_consumer", "brand__quality"} | brands
    assert all(c.kind != "text" for c in params.brand_controls())


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


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``), with
    ``headers`` (a ``Host`` among them replaces the real one)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest("GET", path, skip_host=True)
        for key, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
            connection.putheader(key, value)
        connection.endheaders()
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


# -- who may talk to the server -------------------------------------------------------------------

def websocket_handshake(port: int, host: str, origin: str) -> int:
    """The status of a browser's WebSocket handshake to Solara's kernel channel (101: open)."""
    return get(port, "/jupyter/api/kernels/k1/channels?session_id=s1", {
        "Host": host, "Origin": origin, "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})[0]


def test_only_the_servers_own_host_names_are_answered(server):
    port, _ = server
    for host in [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST."]:
        status, body = get(port, "/", {"Host": host})
        assert status == 200 and b"<html" in body.lower(), host
    # A DNS-rebinding domain reaches the server under its own name.
    for host in ["evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}",
                 f"localhost@evil.example:{port}", ""]:
        status, body = get(port, "/", {"Host": host})
        assert status == 400 and b"--allow-host" in body, host
        assert websocket_handshake(port, host, f"http://{host}") == 403, host


def test_a_foreign_page_cannot_open_the_websocket(server):
    port, _ = server
    own = f"127.0.0.1:{port}"
    assert websocket_handshake(port, own, f"http://{own}") == 101  # the page's own
    for origin in ["http://evil.example", f"http://evil.example:{port}", "null",
                   f"http://localhost:{port}", "http://127.0.0.1:1", f"ftp://{own}",
                   f"http://user@{own}"]:
        assert websocket_handshake(port, own, origin) == 403, origin
        assert get(port, "/", {"Origin": origin})[0] == 403, origin


@pytest.mark.parametrize("host,address,accepted,refused", [
    ("127.0.0.1", "127.0.0.1", ["127.0.0.1", "localhost", "::1", "tunnel"],
     ["10.0.0.5", "evil.example"]),
    ("::1", "::1", ["::1", "0:0::1", "localhost"], ["evil.example", "10.0.0.5"]),
    ("0.0.0.0", "0.0.0.0", ["localhost", "10.0.0.5", "fe80::1", socket.gethostname(), "tunnel"],
     ["evil.example"]),
    ("box.lan", "192.168.1.5", ["box.lan", "192.168.1.5", "tunnel"],
     ["localhost", "10.0.0.5", "evil.example"]),
])
def test_the_accepted_host_names_follow_the_address_served(host, address, accepted, refused):
    guard = HostGuard(None, host, address, ["Tunnel"])

    def netloc(name: str) -> str:
        return f"[{name}]:8765" if ":" in name else f"{name}:8765"

    for name in accepted:
        assert guard.refusal(netloc(name), None) is None, name
        assert guard.refusal(netloc(name), f"http://{netloc(name)}") is None, name
    for name in refused:
        assert guard.refusal(netloc(name), None)[0] == 400, name
    assert guard.refusal(netloc(host), "http://tunnel:8765")[0] == 403  # not the page's own


def run_ui(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wommsim.ui", *argv], capture_output=True,
                          text=True, timeout=120, env=offline_env())


@pytest.mark.parametrize("argv,option", [
    (["--host", "garbage..host"], "--host"),
    (["--host", "bad-.example"], "--host"),
    (["--port", "99999"], "--port"),
    (["--port", "-1"], "--port"),
    (["--port", "http"], "--port"),
    (["--allow-host", "a b"], "--allow-host"),
    (["--host", "nothing.invalid"], "--host nothing.invalid"),
])
def test_a_bad_host_or_port_is_one_line(argv, option):
    result = run_ui(*argv)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("wommsim.ui: ") and option in result.stderr, result.stderr


def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_ui("--port", str(port))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"--port {port}" in result.stderr and "in use" in result.stderr, result.stderr


def test_port_0_prints_the_port_chosen_and_allow_host_adds_a_name(tmp_path):
    log_path = tmp_path / "server.log"

    def printed_port() -> int | None:
        found = re.search(r"http://127\.0\.0\.1:(\d+)", log_path.read_text())
        return int(found[1]) if found else None

    def ready() -> bool:  # the URL printed is the server's
        port = printed_port()
        return port is not None and get(port, "/readyz")[0] == 200

    with open(log_path, "w") as log, ui_server(0, ["--allow-host", "ui.example"],
                                               offline_env(), ready, log):
        port = printed_port()
        assert port != 0
        assert get(port, "/readyz", {"Host": "ui.example"})[0] == 200
        assert get(port, "/readyz", {"Host": "other.example"})[0] == 400


def test_without_the_ui_extra_the_ui_says_how_to_install_it():
    code = ("import sys; sys.modules['solara'] = None; sys.modules['uvicorn'] = None; "
            "from wommsim.ui.__main__ import main; sys.exit(main([]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "wommsim.ui: the browser UI needs the ui extra (solara, uvicorn missing): "
        "pip install 'wommsim[ui]' (in a checkout: scripts/bootstrap dev)"]
