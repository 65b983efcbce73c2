#!/usr/bin/env bash
# Where a SCRAM login's server CPU goes (BENCHMARKS.md, "Logins, and why 10x..."):
# a CPU profile of Hermod during a 10 s login run, then the system calls of the same
# load counted by strace for 3 s (strace slows the server: its run's rates are not
# figures, only the calls per login are). Writes into this directory.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$0")/../../../.."
D=$(mktemp -d /tmp/hermod-login-profile.XXXXXX)
go build -o "$D/hermod" ./cmd/hermod && go build -o "$D/hb" ./bench/cmd/hermod-bench
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
for i in $(seq 1 500); do echo "login$i@localhost,password"; done > "$D/login.csv"
"$D/hermod" user import "$D/login.csv" --config "$D/hermod.toml" | tail -1
login() {
  "$D/hb" run --server 127.0.0.1:27422 --server-pid "$1" --scenario login --mech SCRAM-SHA-256 \
    --user-prefix login --login-users 500 --concurrency 64 --duration "$2" --csv none 2>/dev/null | grep -E 'logins '
}
"$D/hermod" serve --config "$D/hermod.toml" > "$D/serve.log" 2>&1 & PID=$!; sleep 2
(sleep 4; curl -sS -o "$OUT/login.pprof" "http://127.0.0.1:27488/debug/pprof/profile?seconds=6") &
PROF=$!
login "$PID" 10s | tee "$OUT/login-run.txt"; wait "$PROF" || true
go tool pprof -top -nodecount=40 "$D/hermod" "$OUT/login.pprof" > "$OUT/login-top.txt" 2>/dev/null
go tool pprof -top -cum -nodecount=60 "$D/hermod" "$OUT/login.pprof" > "$OUT/login-cum.txt" 2>/dev/null
login "$PID" 8s > "$OUT/strace-run.txt" & RUN=$!
sleep 3
timeout -s INT 3 strace -c -f -p "$PID" -o "$OUT/strace.txt" || true
wait "$RUN" || true
kill "$PID"; wait "$PID" || true
rm -rf "$D"
