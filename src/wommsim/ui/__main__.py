"""``python -m wommsim.ui [--host H] [--port P] [KEY=VALUE ...]``: serve the browser UI.

Starts Solara's server (uvicorn, in this process) on http://127.0.0.1:8765 by default.
``KEY=VALUE`` sets a control's starting value (e.g. ``consumers=2000 strategy=ad_heavy``);
the keys are the UI's controls, named as on the command line of ``python -m wommsim``.
On first start the browser assets are fetched from the npm registry into a local folder
(see :mod:`wommsim.ui.assets`); after that the UI needs no network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

from wommsim.ui import assets

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m wommsim.ui",
        description="Serve wommsim's browser UI: watch one strategy live, or compare two.")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--fetch-assets", action="store_true",
                        help="only fetch the browser assets from the npm registry, then exit")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"],
                        help="server log level (default warning)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="starting value of a control, e.g. consumers=2000 "
                             "strategy=ad_heavy consumer.ad_blind_fraction=0.5")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.fetch_assets:  # bad input fails at once, before any download
        from wommsim.ui import params  # composes the defaults: no Solara import yet

        try:
            overrides = params.parse_overrides(args.overrides)
        except ValueError as err:
            print(f"wommsim.ui: {err}", file=sys.stderr)
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

    # Solara warns that 127.0.0.1 over http gets SameSite=Lax cookies: expected here
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(args.port)
    print(f"wommsim UI: http://{args.host}:{args.port}  (Ctrl+C stops it)", file=sys.stderr,
          flush=True)
    uvicorn.run("solara.server.starlette:app", host=args.host, port=args.port,
                log_config=LOGGING_CONFIG, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
