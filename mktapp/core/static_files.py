"""The app's own static files (stylesheet, scripts, icons) are fetched once per version.

Every `url_for("static", filename=...)` carries `?v=<the file's content hash>` (a
url_defaults hook, so no template has to remember it), and a static response asked for
with its current version may be kept by the browser for a year: a changed file has a
new address. An address with no or a stale version is still served, revalidated as
Flask does by default (ETag, Last-Modified).
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    versions: dict[str, tuple[int, int, str]] = {}  # filename -> (mtime_ns, size, hash)

    def version(filename: str) -> str | None:
        path = safe_join(app.static_folder or "", filename)
        try:
            stat = os.stat(path or "")
        except OSError:
            return None
        known = versions.get(filename)
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        with open(path or "", "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()[:12]
        versions[filename] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    @app.url_defaults
    def _versioned(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = version(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def _cache_versioned(response):
        if (
            request.endpoint == "static"
            and response.status_code == 200
            and request.args.get("v")
            and request.args["v"] == version(request.view_args.get("filename", ""))
        ):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
