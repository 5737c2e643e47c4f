"""Response headers and cookie flags that keep customer data in the browser and on the wire."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Settings
from .serving import ensure_serving_settings

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'")
# The station reads barcodes with the camera; nothing else a browser can reach is needed. Autoplay stays
# allowed because the station's feedback tone plays without a click right after a camera read.
PERMISSIONS_POLICY = ", ".join(
    ["camera=(self)"] + [f"{feature}=()" for feature in (
        "microphone", "geolocation", "payment", "usb", "serial", "hid", "bluetooth", "midi", "display-capture",
        "accelerometer", "gyroscope", "magnetometer", "ambient-light-sensor", "screen-wake-lock",
        "xr-spatial-tracking", "publickey-credentials-get", "browsing-topics")])


def is_https() -> bool:
    """Whether the browser reached us over https: TLS here, or (with SERIALTRACE_PROXY_FIX) at a trusted proxy."""
    return has_request_context() and request.is_secure


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or is_https()


def install(app: Flask, settings: Settings) -> None:
    """Trust the configured proxies, mark cookies Secure on https, and add the security headers to every answer."""
    ensure_serving_settings(settings)
    hops = settings.proxy_fix
    if hops:
        # Only as many X-Forwarded-* entries as there are proxies of ours; anything further left came from the client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    app.session_interface = _SessionInterface()
    hsts = f"max-age={settings.hsts_max_age}" if settings.hsts_max_age > 0 else None

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.endpoint != "static":
            # Pages and API answers carry customers, contacts and serials: no browser or proxy may keep a copy.
            headers["Cache-Control"] = "no-store"
        if hsts and is_https():
            # Sent only over https, where browsers honour it (and ignore it when the certificate was not trusted).
            headers.setdefault("Strict-Transport-Security", hsts)
        return response
