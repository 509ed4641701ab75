#!/usr/bin/env python3
"""Hostile clients for hostile_test.sh: each subcommand plays one attack on a
berth listening on loopback and prints what it saw as `key=value` words on
one line. Every attack is bounded in bytes and seconds and stops by itself.

  hostile.py trailer HOST PORT PATH SIZE       chunked body + one trailer field of SIZE bytes
  hostile.py extension HOST PORT PATH SIZE     a chunk extension of SIZE bytes
  hostile.py zeros HOST PORT PATH SIZE         a chunk size with SIZE leading zeros
  hostile.py trailers HOST PORT PATH COUNT     COUNT small trailer fields
  hostile.py fields HOST PORT COUNT            a request with COUNT header fields
  hostile.py hold HOST PORT SRC COUNT SECONDS  holds COUNT idle connections from SRC
  hostile.py slowbody HOST PORT PATH SECONDS   sends a body one byte a second
  hostile.py get HOST PORT SRC PATH            one GET from address SRC; prints status
  hostile.py stall HOST PORT PATH SECONDS      half a PATCH body, then silence
  hostile.py stallput HOST PORT SRC PATH COUNT SIZE SECONDS manifest PUTs that stall before their end
  hostile.py rawtarget HOST PORT               a request target holding ESC and DEL bytes
"""
import socket
import sys
import time

SEND_CAP_SECONDS = 20  # no attack sends for longer than this


def connect(host, port, src=None, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, int(port)))
    return s


def read_status(s):
    """The status code of the first response, or 0 when the server closed
    (or reset) without one."""
    data = b""
    try:
        while b"\r\n" not in data:
            part = s.recv(4096)
            if not part:
                break
            data += part
    except (ConnectionResetError, socket.timeout, BrokenPipeError):
        pass
    if not data.startswith(b"HTTP/1.1 "):
        return 0
    return int(data[9:12])


def head(path, extra=""):
    """A chunked request head; PATH may start with a method ("PATCH /v2/...")."""
    method, _, target = path.rpartition(" ")
    return (f"{method or 'POST'} {target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/octet-stream\r\n{extra}\r\n").encode()


def stream(s, first, filler, size):
    """Sends `first`, then `size` bytes of `filler` in 64 KiB pieces; stops at
    the first send error (the server cut us off). Returns bytes sent."""
    sent = 0
    start = time.monotonic()
    try:
        s.sendall(first)
        piece = filler * (65536 // len(filler))
        while sent < size and time.monotonic() - start < SEND_CAP_SECONDS:
            n = min(len(piece), size - sent)
            s.sendall(piece[:n])
            sent += n
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    return sent


def attack(kind, host, port, path, size):
    size = int(size)
    s = connect(host, port)
    start = time.monotonic()
    if kind == "trailer":
        body = b"5\r\nhello\r\n0\r\nX-Big: "
        sent = stream(s, head(path) + body, b"v", size)
        tail = b"\r\n\r\n"
    elif kind == "extension":
        sent = stream(s, head(path) + b"5;ext=", b"x", size)
        tail = b"\r\nhello\r\n0\r\n\r\n"
    elif kind == "zeros":
        sent = stream(s, head(path), b"0", size)
        tail = b"5\r\nhello\r\n0\r\n\r\n"
    elif kind == "trailers":
        field = b"X-T: 1\r\n"
        sent = stream(s, head(path) + b"5\r\nhello\r\n0\r\n", field, size * len(field))
        tail = b"\r\n"
    else:
        raise SystemExit("unknown attack " + kind)
    try:
        s.sendall(tail)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    status = read_status(s)
    s.close()
    print(f"sent={sent} status={status} secs={time.monotonic() - start:.2f}")


def fields(host, port, count):
    s = connect(host, port)
    lines = "".join(f"X-F{i}: v\r\n" for i in range(int(count)))
    s.sendall(f"GET /v2/ HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode())
    print(f"status={read_status(s)}")
    s.close()


def get(host, port, src, path):
    start = time.monotonic()
    try:
        s = connect(host, port, src)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status = read_status(s)
        s.close()
    except OSError:
        status = 0
    print(f"status={status} ms={(time.monotonic() - start) * 1000:.1f}")


def hold(host, port, src, count, seconds):
    """Opens COUNT connections from SRC and keeps them idle; counts how many
    the server still holds open after a moment (refused ones are closed at
    once). Then sleeps up to SECONDS and closes them all."""
    socks = []
    for _ in range(int(count)):
        try:
            socks.append(connect(host, port, src, timeout=2))
        except OSError:
            break
    time.sleep(0.5)
    open_ = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                continue  # closed by the server
        except BlockingIOError:
            open_ += 1
            continue
        except OSError:
            continue
    print(f"opened={len(socks)} held={open_}", flush=True)
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        time.sleep(0.2)
    for s in socks:
        s.close()


def slowbody(host, port, path, seconds):
    s = connect(host, port, timeout=float(seconds) + 5)
    s.sendall(f"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
              "Content-Type: application/octet-stream\r\n\r\n".encode())
    start = time.monotonic()
    sent = 0
    closed = False
    while time.monotonic() - start < float(seconds):
        try:
            s.sendall(b"x")
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        s.setblocking(False)
        try:
            s.recv(4096)
            # An answer or a close before the body is complete: the server
            # gave up on us.
            closed = True
            break
        except BlockingIOError:
            pass
        except OSError:
            closed = True
            break
        finally:
            s.setblocking(True)
        time.sleep(1)
    print(f"closed={int(closed)} sent={sent} secs={time.monotonic() - start:.1f}")


def stall(host, port, path, seconds):
    """Sends half of a PATCH body, then nothing; prints when the server ends it."""
    s = connect(host, port, timeout=float(seconds))
    s.sendall(f"PATCH {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n"
              "Content-Type: application/octet-stream\r\n\r\n".encode() + b"x" * 100000)
    print("stalled", flush=True)
    start = time.monotonic()
    try:
        s.recv(4096)
    except OSError:
        pass
    print(f"ended secs={time.monotonic() - start:.1f}")


def stallput(host, port, src, path, count, size, seconds):
    """COUNT manifest PUTs of SIZE declared bytes that each send all but the
    last byte, then stall. Counts the ones answered early (429: the server
    will not hold the body) and the ones it keeps reading."""
    size = int(size)
    socks, refused = [], 0
    for _ in range(int(count)):
        s = connect(host, port, src, timeout=5)
        s.sendall(f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
                  "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n\r\n".encode())
        socks.append(s)
    time.sleep(0.3)
    held = []
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096)
            if data.startswith(b"HTTP/1.1 429"):
                refused += 1
            s.close()
            continue
        except BlockingIOError:
            held.append(s)
    body = b"{" + b" " * (size - 2)  # all but the last byte
    for s in held:
        s.setblocking(True)
        try:
            s.sendall(body)
        except OSError:
            pass
    time.sleep(0.3)
    still = []
    for s in held:  # the server may still have refused after reading
        s.setblocking(False)
        try:
            if s.recv(4096).startswith(b"HTTP/1.1 429"):
                refused += 1
            s.close()
        except BlockingIOError:
            still.append(s)
        except OSError:
            s.close()
    held = still
    print(f"held={len(held)} refused={refused}", flush=True)
    time.sleep(float(seconds))
    for s in held:
        s.close()


def rawtarget(host, port):
    s = connect(host, port)
    s.sendall(b"GET /v2/\x1b[31mred\x7f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print(f"status={read_status(s)}")
    s.close()


def main(argv):
    cmd = argv[1]
    if cmd in ("trailer", "extension", "zeros", "trailers"):
        attack(cmd, *argv[2:6])
    elif cmd == "fields":
        fields(*argv[2:5])
    elif cmd == "hold":
        hold(*argv[2:7])
    elif cmd == "slowbody":
        slowbody(*argv[2:6])
    elif cmd == "get":
        get(*argv[2:6])
    elif cmd == "stall":
        stall(*argv[2:6])
    elif cmd == "stallput":
        stallput(*argv[2:9])
    elif cmd == "rawtarget":
        rawtarget(*argv[2:4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
