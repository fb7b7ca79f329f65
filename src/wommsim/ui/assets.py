"""Serve Solara's browser assets locally, so the UI renders with no internet.

Solara's page loads its JavaScript, CSS and fonts from a CDN at run time (by default
through the server's ``/_solara/cdn/`` proxy, which fetches from a public CDN on first use and
caches the files in ``SOLARA_ASSETS_PROXY_CACHE_DIR``). Offline, that fetch fails and the
page stays blank. This module fills the proxy's cache directory once, from the npm registry
(the same packages the CDN mirrors), laid out as the CDN serves them
(``NAME@VERSION/PATH``), and :func:`configure_server` points Solara at it.

The package versions are read from the installed Solara (its page template and its grid
layout widget), so a Solara upgrade fetches the versions it asks for. Tarballs are checked
against the registry's ``sha512`` integrity before they are unpacked; each package is
unpacked into a temporary folder and renamed into place, so a package folder in the cache
is always complete.

Run ``python -m wommsim.ui --fetch-assets`` (or ``python -m wommsim.ui.assets``) to fill
the cache ahead of time; ``python -m wommsim.ui`` fills it on first start. The registry is
``$NPM_CONFIG_REGISTRY`` if set, else the registry npm itself is configured with
(``npm config get registry``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path, PurePosixPath

#: Environment variable naming the cache directory (default: see :func:`cache_dir`).
CACHE_ENV = "WOMMSIM_UI_ASSETS"
TIMEOUT_S = 60

#: The npm packages the page needs with ipyvue/ipyvuetify 1.x (Vue 2), and the versions
#: used if the installed Solara's files do not name one. The version Solara asks for wins.
FALLBACK_VERSIONS: dict[str, str] = {
    "@widgetti/solara-vuetify-app": "10.1.1",  # the page: Vue 2, Vuetify 2, widget manager
    "requirejs": "2.3.6",  # module loader of the page and of the Vue widgets
    "@widgetti/vue-grid-layout": "2.3.13-alpha.2",  # Mesa's draggable grid of components
    "font-awesome": "4.5.0",  # icon font linked by the page template
}

_VERSIONED = re.compile(r"((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+(?:-[\w.]+)?)/")


class AssetError(RuntimeError):
    """The browser assets could not be fetched; the message says what to do."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str

    @property
    def folder(self) -> str:
        """The folder under the cache, as the CDN path names it: ``NAME@VERSION``."""
        return f"{self.name}@{self.version}"


def cache_dir() -> Path:
    """Where the assets live: ``$WOMMSIM_UI_ASSETS``, else ``<venv>/share/wommsim/solara-cdn``
    when that is writable, else ``~/.cache/wommsim/solara-cdn``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    prefix = Path(sys.prefix) / "share" / "wommsim" / "solara-cdn"
    probe = prefix
    while not probe.exists():
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return prefix
    return Path.home() / ".cache" / "wommsim" / "solara-cdn"


def _solara_files() -> list[Path]:
    spec = find_spec("solara")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return [root / "server" / "templates" / "solara.html.j2",
            root / "widgets" / "vue" / "gridlayout.vue"]


def required_packages() -> list[Package]:
    """The npm packages (name and exact version) that Solara's page loads from its CDN."""
    found: dict[str, str] = {}
    for path in _solara_files():
        if path.is_file():
            for name, version in _VERSIONED.findall(path.read_text(encoding="utf-8")):
                if name in FALLBACK_VERSIONS:
                    found.setdefault(name, version)
    fontawesome = os.environ.get("SOLARA_ASSETS_FONTAWESOME_PATH", "")
    match = _VERSIONED.search(fontawesome.lstrip("/"))
    if match and match.group(1) == "font-awesome":
        found["font-awesome"] = match.group(2)
    return [Package(name, found.get(name, version))
            for name, version in FALLBACK_VERSIONS.items()]


def missing(directory: Path | None = None) -> list[Package]:
    """The required packages not yet in the cache."""
    directory = directory or cache_dir()
    return [p for p in required_packages() if not (directory / p.folder).is_dir()]


def registry_url() -> str:
    """``$NPM_CONFIG_REGISTRY``, else the registry npm is configured with."""
    url = (os.environ.get("NPM_CONFIG_REGISTRY")
           or os.environ.get("npm_config_registry")  # noqa: SIM112 (npm sets this spelling)
           or _npm_registry())
    if not url:
        raise AssetError("No npm registry is known: install npm (Node.js) or set "
                         "NPM_CONFIG_REGISTRY to the npm registry's address.")
    return url if url.endswith("/") else url + "/"


def _npm_registry() -> str:
    npm = shutil.which("npm")
    if npm is None:
        return ""
    import subprocess

    try:
        out = subprocess.run([npm, "config", "get", "registry"], capture_output=True,
                             text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    url = out.stdout.strip()
    return url if out.returncode == 0 and url.startswith(("http://", "https://")) else ""


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "wommsim-ui-assets",
                                                   "Accept": "application/json, */*"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return response.read()


def _advice(directory: Path) -> str:
    return (f"The UI needs these files to render without internet. Connect once to the npm "
            f"registry (or set NPM_CONFIG_REGISTRY to a reachable npm mirror) and run "
            f"`python -m wommsim.ui --fetch-assets`, or set {CACHE_ENV} to a folder that "
            f"already holds them (it would be {directory}).")


def _check_integrity(data: bytes, dist: dict, package: Package) -> None:
    integrity = dist.get("integrity", "")
    if integrity.startswith("sha512-"):
        expected = base64.b64decode(integrity.removeprefix("sha512-"))
        ok = hashlib.sha512(data).digest() == expected
    elif dist.get("shasum"):
        ok = hashlib.sha1(data).hexdigest() == dist["shasum"]  # npm's older checksum
    else:
        raise AssetError(f"{package.folder}: the registry gave no checksum for its tarball")
    if not ok:
        raise AssetError(f"{package.folder}: the downloaded tarball does not match the "
                         "registry's checksum (a broken download or mirror); try again")


def _unpack(data: bytes, target: Path) -> int:
    """Unpack an npm tarball's files (minus source maps) into ``target``; return the count."""
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts[1:]  # drop the "package/" root folder
            if not parts or any(p in ("", ".", "..") for p in parts) or member.name.startswith("/"):
                continue
            if parts[-1].endswith(".map"):
                continue  # source maps: tens of MB the page never loads
            dest = target.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:
                continue
            with source, open(dest, "wb") as out:
                shutil.copyfileobj(source, out)
            count += 1
    return count


def fetch_package(package: Package, directory: Path, registry: str | None = None) -> Path:
    """Download one package from the npm registry into ``directory/NAME@VERSION``."""
    registry = registry or registry_url()
    final = directory / package.folder
    if final.is_dir():
        return final
    escaped = package.name.replace("/", "%2f")  # @scope/name -> @scope%2fname, as npm does
    meta_url = urllib.parse.urljoin(registry, f"{escaped}/{package.version}")
    try:
        meta = json.loads(_get(meta_url))
        dist = meta["dist"]
        data = _get(dist["tarball"])
    except (urllib.error.URLError, OSError, ValueError, KeyError) as err:
        raise AssetError(f"Could not download {package.folder} (Solara's browser assets) "
                         f"from the npm registry at {registry}: {err}. "
                         f"{_advice(directory)}") from err
    _check_integrity(data, dist, package)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=directory))
    try:
        if _unpack(data, tmp) == 0:
            raise AssetError(f"{package.folder}: the tarball holds no files")
        try:
            os.replace(tmp, final)
        except OSError:
            if not final.is_dir():  # another process finished the same package first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def ensure_assets(directory: Path | None = None, *, quiet: bool = False) -> Path:
    """Make sure every required package is in the cache, fetching what is missing."""
    directory = directory or cache_dir()
    todo = missing(directory)
    if todo:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise AssetError(f"Cannot create the asset folder {directory}: {err}. "
                             f"Set {CACHE_ENV} to a writable folder.") from err
        registry = registry_url()
        for package in todo:
            if not quiet:
                print(f"wommsim.ui: fetching {package.folder} from {registry} "
                      f"into {directory}", file=sys.stderr)
            fetch_package(package, directory, registry)
    return directory


def configure_server(directory: Path) -> None:
    """Point Solara at the local assets, keep it quiet on the network, hide its badge.

    Must run before Solara is imported (its settings read the environment at import).
    """
    if "solara.server.settings" in sys.modules:
        raise RuntimeError("configure_server() must run before solara.server is imported")
    os.environ["SOLARA_ASSETS_PROXY"] = "True"
    os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(directory)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_MODE", "production")  # no call-home iframe, minified JS
    # Solara's "This website runs on Solara" badge sits over the page's bottom right corner,
    # on the last plot's axis label
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"


def serve_cache_only() -> None:
    """Make Solara's CDN proxy serve only the files already in the cache folder.

    Solara's proxy (``solara.server.starlette.StaticCdn``, 1.64) fetches a path missing
    from the cache from the CDN and writes it there, and for a path that names a folder in
    the cache it deletes that folder first: a request for
    ``/_solara/cdn/font-awesome@4.5.0/css`` would delete the icon font's styles. The UI is
    offline by design (the assets are fetched ahead, see :func:`ensure_assets`), so the
    proxy looks paths up as Starlette's ``StaticFiles`` does: existing files inside the
    cache folder only (``..`` and symbolic links out of it are refused); nothing is
    fetched, written or deleted. Call after :func:`configure_server`.
    """
    from solara.server import starlette as solara_starlette
    from starlette.staticfiles import StaticFiles

    solara_starlette.StaticCdn.lookup_path = StaticFiles.lookup_path


def main(argv: list[str] | None = None) -> int:
    directory = cache_dir()
    try:
        ensure_assets(directory)
    except AssetError as err:
        print(f"wommsim.ui: {err}", file=sys.stderr)
        return 1
    print(directory)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
