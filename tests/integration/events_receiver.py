#!/usr/bin/env python3
"""A webhook receiver for events_test.sh: listens on 127.0.0.1:PORT, answers
every POST 200 and appends one JSON line per request to OUT:
{"path", "content_type", "authorization", "body"}. With --hang it accepts
connections and never answers (a receiver that is stuck, not down)."""
import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hang", action="store_true")
    args = ap.parse_args()
    lock = threading.Lock()

    if args.hang:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", args.port))
        s.listen(128)
        held = []
        while True:
            c, _ = s.accept()
            held.append(c)  # read nothing, answer nothing
        return

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            rec = {"path": self.path, "content_type": self.headers.get("Content-Type", ""),
                   "authorization": self.headers.get("Authorization", ""), "body": body,
                   "at": time.time()}
            with lock, open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
