#!/usr/bin/env python3
"""flip_app.py - an HTTP app whose /health alternates 200 "ok" / 503 on every request.

Each agent round makes exactly one request, so every round is a status transition the collector
records in history: counting history events counts rounds. The number of requests served is
kept in --count-file (rewritten after each request).
  flip_app.py --port N --count-file FILE
"""
import argparse
import http.server
import os
import threading

lock = threading.Lock()
served = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count-file", required=True)
    args = ap.parse_args()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            global served
            if self.path != "/health":  # readiness checks do not count as rounds
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with lock:
                served += 1
                n = served
                with open(args.count_file + ".tmp", "w") as f:
                    f.write(f"{n}\n")
                os.replace(args.count_file + ".tmp", args.count_file)
            code, body = (200, b"ok") if n % 2 == 1 else (503, b"unavailable")
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), H).serve_forever()


if __name__ == "__main__":
    main()
