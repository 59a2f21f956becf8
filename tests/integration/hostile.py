#!/usr/bin/python3
"""Hostile HTTP clients for test_hostile.sh, on loopback only.

  hostile.py flood PORT N READY SECONDS    hold N idle connections open
  hostile.py unauth PORT N SIZE [HEADER]   N clients at once send SIZE-byte
                                           bodies without a token (HEADER,
                                           with backslash escapes, among the
                                           headers); prints the statuses they
                                           got, counted
  hostile.py raw PORT                      send stdin as it is; prints the
                                           status answered ("none": closed
                                           without one) within 10 s
  hostile.py slowloris PORT EVERY LIMIT    send a head one byte per EVERY s;
                                           prints the seconds until the
                                           server closed (LIMIT if never)
  hostile.py hold PORT HEADER READY SECONDS  a POST whose body never comes,
                                           with HEADER among its headers
  hostile.py pipeline PORT                 a GET and an unauthenticated POST
                                           in one write; prints the statuses
                                           answered before the server closed
"""
import collections
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def connect(port):
    return socket.create_connection((HOST, port), timeout=30)


def status_of(s):
    """The status of the first answer on s ("none": closed without one)."""
    data = b""
    try:
        while b"\r\n" not in data:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except OSError:
        pass
    return data[9:12].decode() if data.startswith(b"HTTP/1.1 ") else "none"


def flood(port, n, ready, seconds):
    held = []
    for _ in range(n):
        try:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((HOST, port))
            held.append(s)
        except OSError:
            break
    open(ready, "w").write("%d\n" % len(held))
    time.sleep(seconds)


def unauth(port, n, size, extra=""):
    codes = collections.Counter()
    lock = threading.Lock()

    def one():
        code = "none"
        try:
            s = connect(port)
            s.sendall(("POST /v1/ingest HTTP/1.1\r\nHost: x\r\n%s"
                       "Content-Type: application/x-ndjson\r\n"
                       "Content-Length: %d\r\n\r\n" % (extra, size)).encode("latin-1"))
            chunk = b"{}\n" * 21845  # 64 KiB
            sent = 0
            try:
                while sent < size:
                    k = min(len(chunk), size - sent)
                    s.sendall(chunk[:k])
                    sent += k
            except OSError:
                pass  # the server answered and stopped reading: fine
            code = status_of(s)
            s.close()
        except OSError as e:
            code = type(e).__name__
        with lock:
            codes[code] += 1

    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join("%s=%d" % kv for kv in sorted(codes.items())))


def slowloris(port, every, limit):
    s = connect(port)
    head = b"POST /v1/ingest HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    start = time.time()
    s.settimeout(every)
    for b in head:
        if time.time() - start > limit:
            break
        try:
            s.send(bytes([b]))
            if s.recv(1) == b"":
                print("%.1f" % (time.time() - start))
                return
        except socket.timeout:
            continue
        except OSError:
            print("%.1f" % (time.time() - start))
            return
    print("%.1f" % limit)


def hold(port, header, ready, seconds):
    s = connect(port)
    s.sendall(("POST /v1/ingest HTTP/1.1\r\nHost: x\r\n%s\r\n"
               "Content-Type: application/x-ndjson\r\n"
               "Content-Length: 100000\r\n\r\n{\"sepal_length\": 1" % header).encode())
    open(ready, "w").write("1\n")
    time.sleep(seconds)


def raw(port):
    s = connect(port)
    s.settimeout(10)
    try:
        s.sendall(sys.stdin.buffer.read())
    except OSError:
        pass
    print(status_of(s))


def pipeline(port):
    s = connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /v1/ingest HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n"
              + b"{}\n" * 333 + b"\n")
    data = b""
    s.settimeout(10)
    try:
        while True:
            got = s.recv(65536)
            if not got:
                break
            data += got
    except OSError:
        pass
    print(" ".join(p[:3].decode() for p in data.split(b"HTTP/1.1 ")[1:]))


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "flood":
        flood(port, int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    elif cmd == "unauth":
        extra = ""
        if len(sys.argv) > 5:
            extra = sys.argv[5].encode().decode("unicode_escape") + "\r\n"
        unauth(port, int(sys.argv[3]), int(sys.argv[4]), extra)
    elif cmd == "raw":
        raw(port)
    elif cmd == "slowloris":
        slowloris(port, float(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "pipeline":
        pipeline(port)
    elif cmd == "hold":
        hold(port, sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
