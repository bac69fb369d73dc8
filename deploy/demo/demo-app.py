#!/usr/bin/env python3
"""demo-app.py - a tiny HTTP application whose health the Faultline demo and tests switch.

GET /health answers according to the current mode:
  ok      200 "ok"
  503     503 "unavailable"
  500     500 "error"
  404     404 "not found"
  body    200 "degraded" (a body without "ok": body_mismatch)
  slow    sleeps delay_ms (default 800) then 200 "ok"
  errors  each request answers 503 "unavailable" with probability error_pct percent (default
          10), else 200 "ok" after delay_ms (default 0 in this mode)
  hang    accepts the request and never answers (until the mode changes)
  down    the process stops listening (connections are refused) until the mode changes

The mode is switched by
  GET or POST /_mode?set=MODE[&delay_ms=N][&error_pct=P]
                                             (answers the mode now in force; GET /_mode reads it)
  --mode-file FILE                           first line "MODE [DELAY_MS]", or "errors [PCT
                                             [DELAY_MS]]", re-read on every request and polled
                                             every 100 ms (so "down" can end)
  SIGUSR1                                    back to "ok"
GET /release answers the release id (--release, or the first line of --release-file).
SIGTERM/SIGINT stop it cleanly (exit 0).
"""

import argparse
import http.server
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse

MODES = ("ok", "503", "500", "404", "body", "slow", "hang", "down", "errors")


class State:
    """The mode in force, shared by the request threads and the listener loop."""

    def __init__(self, mode, delay_ms, mode_file):
        self.cond = threading.Condition()
        self.mode = mode
        self.error_pct = 10
        self.errors_delay_ms = 0
        self.last_up_mode = mode if mode != "down" else "ok"  # what "down" interrupts
        self.delay_ms = delay_ms
        self.mode_file = mode_file
        self.mode_file_stamp = None
        self.stopping = False

    def set(self, mode, delay_ms=None, error_pct=None):
        with self.cond:
            if (mode != self.mode or (delay_ms is not None and delay_ms != self.delay_ms)
                    or (mode == "errors" and error_pct != self.error_pct)):
                log(f"mode {self.mode} -> {mode}" + (f" ({delay_ms} ms)" if delay_ms else "")
                    + (f" ({error_pct} % errors)" if error_pct is not None else ""))
            if self.mode != "down":
                self.last_up_mode = self.mode
            self.mode = mode
            if mode == "errors":
                # Its own delay (default 0), so "slow"'s default of 800 ms does not leak in.
                self.error_pct = 10 if error_pct is None else max(0, min(100, error_pct))
                self.errors_delay_ms = delay_ms or 0
            elif delay_ms is not None:
                self.delay_ms = delay_ms
            self.cond.notify_all()

    def next_is_error(self):
        """errors mode: True with probability error_pct %, each request on its own, as a
        release that fails some requests does (not every 10th one like clockwork)."""
        with self.cond:
            return random.random() * 100 < self.error_pct

    def get(self):
        self.poll_file()
        with self.cond:
            return self.mode, self.delay_ms

    def poll_file(self):
        """Re-reads the mode file when it changed; a missing or bad file keeps the mode."""
        if not self.mode_file:
            return
        try:
            st = os.stat(self.mode_file)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if stamp == self.mode_file_stamp:
                return
            with open(self.mode_file, encoding="utf-8") as f:
                words = f.readline().split()
        except OSError:
            return
        self.mode_file_stamp = stamp
        if not words or words[0] not in MODES:
            log(f"{self.mode_file}: ignoring unknown mode {words[:1]}")
            return
        delay = None
        if words[0] == "errors":
            pct = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
            if len(words) > 2 and words[2].isdigit():
                delay = int(words[2])
            self.set("errors", delay, pct)
            return
        if len(words) > 1 and words[1].isdigit():
            delay = int(words[1])
        self.set(words[0], delay)

    def wait_change(self, mode, timeout):
        """Waits until the mode is no longer `mode` (or stopping), at most timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll_file()
            with self.cond:
                if self.mode != mode or self.stopping:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.cond.wait(min(left, 0.1))


def log(msg):
    sys.stderr.write(f"demo-app: {msg}\n")
    sys.stderr.flush()


def make_handler(state, release):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "faultline-demo-app/1.0"
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            if os.environ.get("DEMO_APP_ACCESS_LOG"):
                log(format % args)

        def answer(self, code, body):
            data = (body + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def do_GET(self):  # noqa: N802 - the base class's name
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/_mode":
                return self.control(url)
            if url.path == "/release":
                return self.answer(200, release())
            if url.path not in ("/", "/health"):
                return self.answer(404, "not found")
            mode, delay_ms = state.get()
            if mode == "down":
                # Accepted before the listener closed: answer as the app did until then, so
                # "down" shows only as refused connections, never as a dropped request.
                mode = state.last_up_mode
            if mode == "ok":
                return self.answer(200, "ok")
            if mode in ("503", "500", "404"):
                return self.answer(int(mode), {"503": "unavailable", "500": "error"}.get(mode, "not found"))
            if mode == "body":
                return self.answer(200, "degraded")
            if mode == "slow":
                time.sleep(delay_ms / 1000.0)
                return self.answer(200, "ok")
            if mode == "errors":
                if state.next_is_error():
                    return self.answer(503, "unavailable")
                time.sleep(state.errors_delay_ms / 1000.0)
                return self.answer(200, "ok")
            if mode == "hang":
                # Never answer: hold the connection until the mode changes, then drop it.
                state.wait_change(mode, 3600)
                self.close_connection = True
                return None
            return self.answer(500, f"unknown mode {mode}")

        def do_POST(self):  # noqa: N802
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/_mode":
                return self.control(url)
            return self.answer(404, "not found")

        def control(self, url):
            q = urllib.parse.parse_qs(url.query)
            if "set" in q:
                mode = q["set"][0]
                if mode not in MODES:
                    return self.answer(400, f"unknown mode {mode}; one of: {' '.join(MODES)}")
                delay = pct = None
                try:
                    if "delay_ms" in q:
                        delay = int(q["delay_ms"][0])
                    if "error_pct" in q:
                        pct = int(q["error_pct"][0])
                except ValueError:
                    return self.answer(400, "delay_ms and error_pct must be integers")
                # The answer goes out before the listener closes ("down").
                self.answer(200, f"mode {mode}")
                self.wfile.flush()
                state.set(mode, delay, pct)
                return None
            mode, delay_ms = state.get()
            return self.answer(200, f"mode {mode} delay_ms {delay_ms}")

    return Handler


def drain(srv):
    """Serves the connections already waiting in the listen backlog, so closing the listener
    resets none of them (a probe racing the switch to "down" gets an answer, not a reset)."""
    srv.socket.setblocking(False)
    while True:
        try:
            conn, addr = srv.socket.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        conn.setblocking(True)
        srv.process_request(conn, addr)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    ap.add_argument("--mode", default="ok", choices=MODES, help="initial mode (default ok)")
    ap.add_argument("--delay-ms", type=int, default=800, help="delay of the slow mode (default 800)")
    ap.add_argument("--mode-file", help="file whose first line 'MODE [DELAY_MS]' sets the mode")
    ap.add_argument("--release", help="release id served at /release")
    ap.add_argument("--release-file", help="file whose first line is the release id")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    args = ap.parse_args()

    state = State(args.mode, args.delay_ms, args.mode_file)
    state.poll_file()

    def release():
        if args.release_file:
            try:
                with open(args.release_file, encoding="utf-8") as f:
                    return f.readline().strip() or "unknown"
            except OSError:
                return "unknown"
        return args.release or "unknown"

    def stop(signum, _frame):
        log(f"signal {signum}: stopping")
        with state.cond:
            state.stopping = True
            state.cond.notify_all()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, lambda _s, _f: state.set("ok"))

    handler = make_handler(state, release)
    port = args.port
    while True:
        state.wait_change("down", 3600)
        with state.cond:
            if state.stopping:
                break
        try:
            srv = Server((args.bind, port), handler)
        except OSError as e:
            log(f"cannot listen on {args.bind}:{port}: {e}")
            return 2
        if port == 0:
            port = srv.server_address[1]
        if args.port_file:
            tmp = args.port_file + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(f"{port}\n")
            os.replace(tmp, args.port_file)
        log(f"listening on {args.bind}:{port} (mode {state.get()[0]})")
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        # Serve until the mode becomes "down" or a signal asks us to stop.
        while True:
            mode, _ = state.get()
            with state.cond:
                if state.stopping or mode == "down":
                    break
                state.cond.wait(0.1)
        srv.shutdown()
        t.join()
        drain(srv)
        srv.server_close()
        with state.cond:
            if state.stopping:
                break
        log(f"not listening on {args.bind}:{port} (mode down)")
    log("stopped")
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    sys.exit(main())
