#!/usr/bin/env python3
"""tb_app.py - the testbed's stand-in application (used when deploy/demo/demo-app.py is absent).

    tb_app.py [--bind ADDR] [--port PORT] [--release-file FILE]

GET /health           200 "ok" in mode ok; 503 in mode 503; 200 after 1.5 s in mode slow;
                      never answers in mode hang.
GET /_mode?set=MODE   switch mode (ok|503|slow|hang), answers "mode MODE"; GET /_mode reads it.
GET /release          the first line of --release-file.

Same mode interface as the project's demo app, so testbed.sh drives either the same way.
"""
import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MODES = ("ok", "503", "slow", "hang")
state = {"mode": "ok"}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def reply(self, code, body):
        data = (body + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        if url.path == "/_mode":
            want = parse_qs(url.query).get("set", [None])[0]
            if want is not None:
                if want not in MODES:
                    self.reply(400, "unknown mode %s (ok|503|slow|hang)" % want)
                    return
                with lock:
                    state["mode"] = want
            with lock:
                self.reply(200, "mode " + state["mode"])
            return
        if url.path == "/release":
            self.reply(200, release())
            return
        with lock:
            mode = state["mode"]
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "slow":
            time.sleep(1.5)
        if mode == "503":
            self.reply(503, "unavailable")
            return
        self.reply(200, "ok")

    def log_message(self, fmt, *args):  # keep the testbed logs quiet
        pass


def release():
    try:
        with open(state["release_file"] or "", encoding="utf-8") as f:
            return f.readline().strip() or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--release-file", help="file whose first line GET /release serves")
    a = ap.parse_args()
    state["release_file"] = a.release_file
    srv = ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
