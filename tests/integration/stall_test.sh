#!/usr/bin/env bash
# Slow and stalled clients cannot hold berth: with 2-second timeouts, a
# client that sends no request, one that stops mid-headers, one that stops
# mid-body and one that stops reading a large download are each cut off
# within a few seconds, while other clients are served all along.
source "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_berth "$WORK/root" "$PORT" BERTH_TLS_ENABLED=false BERTH_HTTP_HEADER_TIMEOUT=2 \
  BERTH_HTTP_BODY_TIMEOUT=2 BERTH_HTTP_WRITE_TIMEOUT=2 || exit 1

# A 64 MiB blob to download slowly.
head -c 67108864 /dev/urandom >"$WORK/big"
d=sha256:$(sha256sum "$WORK/big" | cut -d' ' -f1)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$WORK/big" \
  "$BASE/v2/stall/big/blobs/uploads/?digest=$d")
expect_eq "64 MiB blob pushed" 201 "$code"

# stall KIND: opens a connection, sends nothing, half a request head, or half
# a body, then prints how many seconds the server took to close it (or "open"
# after 15 s).
stall() {
  python3 - "$PORT" "$1" "$d" <<'PY'
import socket, sys, time
port, kind, digest = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
if kind == "silent":
    pass
elif kind == "half-head":
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
elif kind == "half-body":
    s.sendall(b"POST /v2/stall/x/blobs/uploads/?digest=" + digest.encode() +
              b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"a" * 1000)
start = time.time()
s.settimeout(0.2)
while time.time() - start < 15:
    try:
        data = s.recv(65536)
        if not data:
            print(f"{time.time() - start:.1f}"); sys.exit(0)
    except socket.timeout:
        continue
    except OSError:
        print(f"{time.time() - start:.1f}"); sys.exit(0)
print("open")
PY
}

for kind in silent half-head half-body; do
  t=$(stall "$kind")
  if [[ $t != open ]] && (($(echo "$t < 8" | bc))); then pass "$kind client cut off after $t s"; else
    fail "$kind client not cut off ($t)"; fi
done

# The stalled download: count the server's open connections instead of
# guessing from the client side.
python3 - "$PORT" "$d" >"$WORK/noread.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /v2/stall/big/blobs/" + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(20)
PY
reader=$!
sleep 0.5
established() { ss -tn state established "( sport = :$PORT )" 2>/dev/null | tail -n +2 | wc -l; }
before=$(established)
gone=""
for i in $(seq 1 100); do
  sleep 0.1
  if [[ $(established) -lt $before ]]; then gone=$(echo "scale=1; $i / 10" | bc); break; fi
done
kill "$reader" 2>/dev/null; wait "$reader" 2>/dev/null
if [[ -n $gone ]]; then pass "a client that stops reading a download is cut off (after ${gone} s)"; else
  fail "a client that stops reading a download still holds its connection after 10 s"; fi

# Others are served all along, and the half-sent upload left nothing behind.
expect_eq "berth still answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v2/")"
got=$(curl -s "$BASE/v2/stall/big/blobs/$d" | sha256sum | cut -d' ' -f1)
expect_eq "a full download still works" "${d#sha256:}" "$got"
expect_eq "the half-sent blob was not stored" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE/v2/stall/x/blobs/$d")"
summary
