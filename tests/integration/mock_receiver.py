#!/usr/bin/env python3
"""A webhook receiver for the integration tests that can go down and come
back on the same port, on demand.

Listens on 127.0.0.1 (--port 0: a free port, written to --port-file). Every
request is answered from the --respond list (one status per request, in
order; then --default, 200) and logged to --log as one JSON line: t,
method, path, headers, body (parsed JSON when it is JSON), status. The line
is written as soon as the request has arrived, before the answer; --delay
SECONDS holds the answer back (a slow receiver: the sender may die before
it hears that the alert arrived).

Down and up on demand, by signal:
  SIGUSR1  down: the listening socket is closed, so connections are refused
           (what a crashed receiver looks like);
  SIGUSR2  up: listen again on the same port.
--start-down binds once to learn a free port, writes it, then goes down.
The current state is written to --port-file.state ("up" or "down") after
each change, so a test can wait for it.

`mock_receiver.py count LOG [STATUS]` prints how many requests were logged
(only those with body.status == STATUS when given, e.g. firing).
"""
import argparse
import http.server
import json
import os
import signal
import socket
import sys
import time


def count(path, status=None):
    n = 0
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                b = r.get("body")
                if status is None or (isinstance(b, dict) and b.get("status") == status):
                    n += 1
    except FileNotFoundError:
        pass
    print(n)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "count":
        count(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--respond", type=int, action="append", default=[])
    ap.add_argument("--default", type=int, default=200)
    ap.add_argument("--start-down", action="store_true")
    ap.add_argument("--delay", type=float, default=0,
                    help="seconds to wait after logging a request before answering")
    args = ap.parse_args()
    script = list(args.respond)
    logf = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so going down is immediate
        protocol_version = "HTTP/1.0"

        def log_message(self, fmt, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n > 0 else b""
            try:
                body = json.loads(raw)
            except Exception:  # noqa: BLE001
                body = raw.decode("utf-8", "replace")
            status = script.pop(0) if script else args.default
            logf.write(json.dumps({"t": time.time(), "method": self.command, "path": self.path,
                                   "headers": dict(self.headers.items()), "body": body,
                                   "status": status}) + "\n")
            logf.flush()
            if args.delay > 0:
                time.sleep(args.delay)
            data = b'{"ok": true}' if status < 300 else b'{"error": "scripted"}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender died while we held the answer back (--delay)

        do_PUT = do_POST

    class Server(http.server.HTTPServer):
        allow_reuse_address = True

    want = {"up": True}

    def on_sig(signum, frame):
        want["up"] = signum == signal.SIGUSR2

    signal.signal(signal.SIGUSR1, on_sig)
    signal.signal(signal.SIGUSR2, on_sig)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.timeout = 0.05
    port = srv.server_address[1]

    def write_state(s):
        with open(args.port_file + ".state.tmp", "w") as f:
            f.write(s + "\n")
        os.rename(args.port_file + ".state.tmp", args.port_file + ".state")

    if args.start_down:
        want["up"] = False
        srv.server_close()
        srv = None
        write_state("down")
    else:
        write_state("up")
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)
    while True:
        if want["up"] and srv is None:
            try:
                srv = Server(("127.0.0.1", port), Handler)
                srv.timeout = 0.05
                write_state("up")
            except OSError:
                time.sleep(0.05)
                continue
        elif not want["up"] and srv is not None:
            srv.server_close()
            srv = None
            write_state("down")
        if srv is not None:
            try:
                srv.handle_request()
            except (OSError, socket.error):
                pass
        else:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
