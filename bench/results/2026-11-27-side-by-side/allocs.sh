#!/usr/bin/env bash
# Heap allocations per SCRAM login (BENCHMARKS.md, "Hermod and ejabberd side by side,
# 2026-11-27"): for each `hermod` binary given, a fresh server, the allocation profile
# (/debug/pprof/allocs, which counts every allocation since start, sampled) before and
# after a 5 s login run of hermod-bench, and the difference divided by the logins.
#
#   allocs.sh BIN ...
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
D=$(mktemp -d /tmp/hermod-allocs.XXXXXX)
trap 'rm -rf "$D"' EXIT
go build -C "$ROOT" -o "$D/hb" ./bench/cmd/hermod-bench
cat > "$D/hermod.toml" <<CFG
[general]
hosts = ["localhost"]
data_dir = "$D/data"
loglevel = "warn"
[[listen.c2s]]
address = "127.0.0.1"
port = 27422
tls = "none"
[admin]
address = "127.0.0.1:27488"
CFG
for i in $(seq 1 500); do echo "login$i@localhost,password"; done > "$D/users.csv"
"$1" user import "$D/users.csv" --config "$D/hermod.toml" > /dev/null
for bin in "$@"; do
  "$bin" serve --config "$D/hermod.toml" > "$D/serve.log" 2>&1 & PID=$!
  sleep 1.5
  curl -s -o "$D/a0.pprof" http://127.0.0.1:27488/debug/pprof/allocs
  n=$("$D/hb" run --server 127.0.0.1:27422 --server-pid "$PID" --scenario login --mech SCRAM-SHA-256 \
    --user-prefix login --login-users 500 --concurrency 64 --duration 5s --csv none 2>/dev/null | awk '/logins / {print $2}')
  curl -s -o "$D/a1.pprof" http://127.0.0.1:27488/debug/pprof/allocs
  kill "$PID"; wait "$PID" 2>/dev/null
  objs=$(go tool pprof -sample_index=alloc_objects -base "$D/a0.pprof" -top -nodecount=1 "$D/a1.pprof" 2>/dev/null |
    sed -n 's/.* of \([0-9]*\) total.*/\1/p')
  echo "$(basename "$bin"): $n logins, $objs objects allocated, $((objs / n)) per login"
done
