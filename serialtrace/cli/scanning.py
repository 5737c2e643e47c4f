"""Reading barcodes: from image files (scan) and from a camera (station), optionally posting to a server."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line and file.")
def scan(files: tuple[str, ...], as_json: bool) -> None:
    """Decode the barcodes in image files; an unreadable file is reported and the next one goes on."""
    import cv2

    from ..scanner import scan_files

    # OpenCV prints its own warnings for broken files; the JSON line's "error" already says what went wrong.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

    failed = False
    for result in scan_files(list(files)):
        failed = failed or bool(result["error"])
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        elif result["error"]:
            click.echo(f"{result['file']}: error: {result['error']}")
        else:
            for code in result["codes"]:
                flag = "" if code["confirmed"] else " (unconfirmed)"
                click.echo(f"{result['file']}: {code['format']} {code['symbology_id'] or ''} {code['text']!r}{flag}")
    if failed:
        # Every file got its line; the exit code tells a script that at least one could not be read.
        click.get_current_context().exit(1)


@click.command()
@click.option("--camera", "camera", type=click.IntRange(0, 999), required=True, help="Camera index (0 is the first).")
@click.option("--server", help="Post each confirmed code to this serialtrace server, e.g. https://host:5000.")
@click.option("--token", envvar="SERIALTRACE_TOKEN", help="API token for --server (or SERIALTRACE_TOKEN).")
@click.option("--station", "station_name", default="", help="Station name sent with each scan (default: host name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line and code.")
def station(camera: int, server: str | None, token: str | None, station_name: str, as_json: bool) -> None:
    """Read barcodes from a camera; print (and beep for) each confirmed code, optionally post it to a server."""
    import platform

    from .. import scanner
    from ..station.schemas import scan_text

    if server and not token:
        raise click.UsageError("--server needs --token (or SERIALTRACE_TOKEN)")
    name = station_name or platform.node()

    def on_code(code) -> None:
        text = scan_text(code)
        if as_json:
            line = {"code": text, "text": code.text, "format": code.format, "symbology_id": code.symbology_id,
                    "confirmed": code.confirmed}
            click.echo(json.dumps(line, ensure_ascii=False) + "\a")
        else:
            # repr shows the GS separators a terminal would swallow; the bell tells the person without a screen.
            click.echo(f"{code.format} {text!r}\a")
        if server:
            try:
                answer = _post_scan(server, token, {"code": text, "station": name, "source": "camera"})
            except OSError as exc:
                click.echo(f"error: server {server}: {getattr(exc, 'reason', None) or exc}", err=True)
                return
            if as_json:
                click.echo(json.dumps(answer, ensure_ascii=False))
            else:
                click.echo(f"  {answer.get('result')}: {answer.get('message')}")

    try:
        scanner.run_camera(camera, on_code)
    except scanner.CameraError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


def _post_scan(server: str, token: str | None, body: dict) -> dict:
    """POST one scan to a server's /api/v1/scans and return its JSON answer (error answers too)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        server.rstrip("/") + "/api/v1/scans", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
        except ValueError:
            answer = {"message": exc.reason}
        return {"result": f"error {exc.code}", "message": answer.get("message")}
