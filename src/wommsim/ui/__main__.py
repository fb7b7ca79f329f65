"""``python -m wommsim.ui [--host H] [--port P] [--allow-host NAME] [KEY=VALUE ...]``: serve the UI.

Starts Solara's server (uvicorn, in this process) on http://127.0.0.1:8765 by default. It
answers only requests for its own host names from its own pages (see :mod:`wommsim.ui.guard`).
``KEY=VALUE`` sets a control's starting value (e.g. ``consumers=2000 strategy=ad_heavy``);
the keys are the UI's controls, named as on the command line of ``python -m wommsim``.
On first start the browser assets are fetched from the npm registry into a local folder
(see :mod:`wommsim.ui.assets`); after that the UI needs no network.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import ipaddress
import json
import os
import re
import socket
import sys
import warnings

from wommsim.ui import assets

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.IGNORECASE)


class UsageError(ValueError):
    """A bad command-line option; the message names it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # main() prints one line, not the usage text
        raise UsageError(message)


def host_name(text: str) -> str:
    """An IP address (``::1`` or ``[::1]``) or a host name: dot-separated labels of letters,
    digits and hyphens."""
    bracketed = text.startswith("[") and text.endswith("]")
    try:
        return str(ipaddress.ip_address(text[1:-1] if bracketed else text))
    except ValueError:
        pass
    if len(text) <= 253 and all(_LABEL.fullmatch(label) for label in text.split(".")):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not an IP address or host name")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: give a whole number from 0 to 65535, or 0 for any free port")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(
        prog="python -m wommsim.ui",
        description="Serve wommsim's browser UI: watch one strategy live, or compare two.")
    parser.add_argument("--host", type=host_name, default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port)")
    parser.add_argument("--allow-host", action="append", default=[], type=host_name,
                        metavar="NAME",
                        help="also answer requests for this host name (repeatable), e.g. the "
                             "machine's DNS name with --host 0.0.0.0; requests for names the "
                             "server was not started for are refused")
    parser.add_argument("--fetch-assets", action="store_true",
                        help="only fetch the browser assets from the npm registry, then exit")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"],
                        help="server log level (default warning)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="starting value of a control, e.g. consumers=2000 "
                             "strategy=ad_heavy consumer.ad_blind_fraction=0.5")
    return parser.parse_args(argv)


def listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket as uvicorn would, but here: a bad address is one line, and
    ``--port 0`` tells its real port before the URL is printed."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def url(host: str, address: str, port: int) -> str:
    if ipaddress.ip_address(address).is_unspecified:  # all addresses: this machine's own
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def missing_ui_packages() -> list[str]:
    """The packages of the ``ui`` extra that are not installed (a core install has none).
    Nothing is imported: Solara must be configured before it is (:mod:`wommsim.ui.assets`)."""
    return [name for name in ("solara", "starlette", "uvicorn", "ipyvue", "ipyvuetify")
            if importlib.util.find_spec(name) is None]


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as err:
        print(f"wommsim.ui: {err} (--help lists the options)", file=sys.stderr)
        return 2
    missing = missing_ui_packages()
    if missing:
        print(f"wommsim.ui: the browser UI needs the ui extra ({', '.join(missing)} missing): "
              "pip install 'wommsim[ui]' (in a checkout: scripts/bootstrap dev)",
              file=sys.stderr)
        return 1
    if not args.fetch_assets:  # bad input fails at once, before any download
        from wommsim.ui import params  # composes the defaults: no Solara import yet

        try:
            overrides = params.parse_overrides(args.overrides)
        except ValueError as err:
            print(f"wommsim.ui: {err}", file=sys.stderr)
            return 2
        try:
            sock = listen(args.host, args.port)
        except OSError as err:
            print(f"wommsim.ui: --host {args.host} --port {args.port}: cannot listen there: "
                  f"{err.strerror or err}", file=sys.stderr)
            return 2
    try:
        directory = assets.ensure_assets()
    except assets.AssetError as err:
        print(f"wommsim.ui: {err}", file=sys.stderr)
        return 1
    if args.fetch_assets:
        print(directory)
        return 0

    os.environ["WOMMSIM_UI_OVERRIDES"] = json.dumps(overrides)
    os.environ["SOLARA_APP"] = "wommsim.ui.app"
    assets.configure_server(directory)  # before Solara reads its settings
    assets.serve_cache_only()  # no request can make the server fetch, write or delete files

    import uvicorn
    from solara.__main__ import LOGGING_CONFIG
    from solara.server.starlette import app as solara_app

    from wommsim.ui.guard import HostGuard

    # Solara warns that 127.0.0.1 over http gets SameSite=Lax cookies: expected here
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    address, port = sock.getsockname()[:2]
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(port)
    app = HostGuard(solara_app, args.host, address, args.allow_host)
    server = uvicorn.Server(uvicorn.Config(app, log_config=LOGGING_CONFIG,
                                           log_level=args.log_level, access_log=False))
    print(f"wommsim UI: {url(args.host, address, port)}  (Ctrl+C stops it)", file=sys.stderr,
          flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl+C stops the server
        server.run(sockets=[sock])
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
