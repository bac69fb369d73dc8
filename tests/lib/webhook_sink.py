#!/usr/bin/env python3
"""webhook_sink.py - a small HTTP receiver for notification tests.

    webhook_sink.py --port P --out FILE [--mode ok|fail|hang|slow|huge]

ok:   every POST is answered 200 and recorded as one JSON line in FILE:
      {"path", "event_id" (X-Faultline-Event-Id), "headers" (lower-case names), "body"}.
fail: every POST is answered 503 (and recorded with "answered": 503).
hang: reads the request and never answers (the connection stays open).
slow: answers "200 OK" one byte every 0.3 s.
huge: answers 200 with a 1 GB body, streamed until the client stops reading; records
      {"huge_sent": BYTES} when the client goes away.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def record(out, obj):
    with LOCK, open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj) + "\n")
        f.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", default="ok")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            rec = {"path": self.path, "event_id": self.headers.get("X-Faultline-Event-Id"),
                   "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            if args.mode == "ok":
                record(args.out, rec)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            elif args.mode == "fail":
                rec["answered"] = 503
                record(args.out, rec)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif args.mode == "hang":
                record(args.out, {"hang": True})
                time.sleep(3600)
            elif args.mode == "slow":
                record(args.out, {"slow": True})
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.3)
                self.close_connection = True
            elif args.mode == "huge":
                self.send_response(200)
                self.send_header("Content-Length", str(1 << 30))
                self.end_headers()
                sent, chunk = 0, b"x" * 65536
                try:
                    while sent < (1 << 30):
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except OSError:
                    pass
                record(args.out, {"huge_sent": sent})
                self.close_connection = True

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
