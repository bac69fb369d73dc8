#!/usr/bin/env python3
"""delay-proxy.py - a TCP proxy on loopback that delays what the client sends, to make one
host's path to a database slower (the canary benchmark's "one database probe slower on the
canary only").

  delay-proxy.py --listen-port P --to-port Q --delay-file FILE [--port-file F]

Every chunk the client sends waits DELAY ms (first line of FILE, re-read on each new
connection; missing or bad = 0) before it is forwarded to 127.0.0.1:Q; answers come back
at once. A protocol with several round trips (PostgreSQL's SCRAM login, then the query) is
slowed once per round trip, as a longer network path would. SIGTERM stops it.
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time


def read_delay(path):
    try:
        with open(path, encoding="utf-8") as f:
            return max(0, int(f.readline().strip() or 0)) / 1000.0
    except (OSError, ValueError):
        return 0.0


def pipe(src, dst, delay):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if delay:
                time.sleep(delay)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, args):
    delay = read_delay(args.delay_file)
    try:
        up = socket.create_connection(("127.0.0.1", args.to_port), timeout=5)
        up.settimeout(None)
    except OSError:
        conn.close()
        return
    t = threading.Thread(target=pipe, args=(up, conn, 0), daemon=True)
    t.start()
    pipe(conn, up, delay)
    t.join()
    conn.close()
    up.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen-port", type=int, default=0)
    ap.add_argument("--to-port", type=int, required=True)
    ap.add_argument("--delay-file", required=True)
    ap.add_argument("--port-file")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.listen_port))
    ls.listen(64)
    if args.port_file:
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as f:
            f.write(f"{ls.getsockname()[1]}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
