#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests.
#
#   postgres.sh start DIR   initdb + start; writes DIR/pg.env (BERTH_PG_DSN=...)
#   postgres.sh stop DIR    stops it (fast, then immediate) and leaves DIR
#
# DIR must not exist yet, or be empty; the script makes it and hands it to
# the `postgres` user (initdb refuses to run as root), with 0711 on its
# parents so that user can enter it. The server listens on a Unix socket in
# DIR and on 127.0.0.1 on a free port; database `berth`, role `berth` (may create databases: a test cluster each) with a
# random password. fsync stays on: the tests rely on durability. Every wait
# is bounded. Run as root (runuser) or as the postgres user itself.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "postgres.sh: $*" >&2; exit 1; }

as_pg() {
  if [[ $(id -un) == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [[ -z $(ls -A "$dir") ]] || die "$dir is not empty"
  # Every parent must be enterable by postgres (mktemp -d makes 0700
  # dirs): those of our own temp dirs get search permission for others
  # (nothing becomes listable); / and $HOME are never changed.
  local p=$dir
  while [[ $p != / ]]; do
    p=$(dirname "$p")
    [[ $p == / || $p == "${HOME:-/}" ]] && continue
    if [[ $(id -un) == root && $(stat -c %U "$p") == root && $(stat -c %a "$p") =~ ^7[0-7]0$ ]]; then
      chmod o+x "$p"
    fi
  done
  if [[ $(id -un) == root ]]; then chown postgres: "$dir"; fi
  chmod 0700 "$dir"
  as_pg test -x "$dir" -a -w "$dir" ||
    die "the postgres user cannot enter $dir: put it under /tmp (or give its parents o+x)"

  local port password
  port=$(free_port)
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" >"$dir/.pw.tmp"
  if [[ $(id -un) == root ]]; then chown postgres: "$dir/.pw.tmp"; fi
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
max_connections = 100
shared_buffers = 32MB
logging_collector = off
EOF
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null ||
    { tail -20 "$dir/server.log" >&2; die "pg_ctl start failed"; }
  # Role and database over the socket (trust for local connections only).
  as_pg "$PGBIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -v pw="$password" >/dev/null <<'EOF'
CREATE ROLE berth LOGIN CREATEDB PASSWORD :'pw';
CREATE DATABASE berth OWNER berth;
EOF
  rm -f "$dir/.pw.tmp"
  local dsn="host=127.0.0.1 port=$port dbname=berth user=berth password=$password"
  printf 'BERTH_PG_DSN=%q\nBERTH_PG_PORT=%s\nBERTH_PG_SOCKET_DIR=%q\n' "$dsn" "$port" "$dir" >"$dir/pg.env"
  chmod 0644 "$dir/pg.env"
  # Bounded check that TCP with the password works.
  local i
  for i in $(seq 1 50); do
    if PGPASSWORD=$password "$PGBIN/pg_isready" -h 127.0.0.1 -p "$port" -d berth -U berth -q; then
      return 0
    fi
    sleep 0.1
  done
  die "server on 127.0.0.1:$port did not become ready"
}

stop() {
  local dir
  dir=$(cd "$1" && pwd)
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 && return 0
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 && return 0
  # Last resort: the postmaster's own pid, from its pid file.
  local pid
  pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
}

case ${1:-} in
  start) [[ $# -eq 2 ]] || die "usage: postgres.sh start DIR"; start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: postgres.sh stop DIR"; stop "$2" ;;
  *) die "usage: postgres.sh start|stop DIR" ;;
esac
