#!/usr/bin/env python3
"""flip_app.py - an HTTP app whose answer alternates on every request, for counting rounds.

Request 1 answers 200 "ok", request 2 503, request 3 200, ... so an agent probing it every round
makes one status transition per round, and the collector's history shows every round as one
event (a round lost leaves a gap, a round applied twice a repeated or broken chain). The number
of alternating answers given so far is written to COUNT_FILE after each one. Once FREEZE_FILE
exists, every request answers 404 and is not counted: the rounds after it are told apart by
their class (http_4xx).

Usage: flip_app.py PORT COUNT_FILE FREEZE_FILE
"""
import http.server
import os
import sys

PORT, COUNT_FILE, FREEZE_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
served = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        global served
        if os.path.exists(FREEZE_FILE):
            code, body = 404, b"frozen\n"
        else:
            served += 1
            code, body = (200, b"ok\n") if served % 2 == 1 else (503, b"down\n")
            tmp = COUNT_FILE + ".tmp"
            with open(tmp, "w", encoding="ascii") as f:
                f.write(f"{served}\n")
            os.replace(tmp, COUNT_FILE)
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


# One request at a time (not threading): a freeze never races a counted answer.
http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
