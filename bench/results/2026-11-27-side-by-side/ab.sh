#!/usr/bin/env bash
# A/B of Hermod binaries on one scenario, alternating them so that the machine's drift
# falls on both (BENCHMARKS.md, "Hermod and ejabberd side by side, 2026-11-27"):
#
#   ab.sh login|messages|allocs ROUNDS BIN[:nolast] ...
#
# Each BIN is a `hermod` binary (build one per commit with `go build -o`); BIN:nolast
# runs it with every standard module but mod_last. Each run starts a fresh server on
# 127.0.0.1:27422 (plaintext) and drives it for 8 s with hermod-bench (built from this
# checkout): SCRAM-SHA-256 logins of 500 accounts with 64 in flight, or the messages
# closed loop with window 200 between NMSG (default 1000) sessions. Prints each run's
# per-CPU-second figure. allocs runs the logins for 5 s and prints the heap allocations
# per login instead: the difference of the allocation profile (/debug/pprof/allocs,
# every allocation since start, sampled) before and after, divided by the logins.
set -u
SC=$1 R=$2; shift 2
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
D=$(mktemp -d /tmp/hermod-ab.XXXXXX)
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
cp "$D/hermod.toml" "$D/nolast.toml"
for m in mod_roster mod_presence mod_offline mod_disco mod_vcard mod_private mod_privacy mod_carbons mod_time mod_version; do
  printf '[modules.%s]\n' "$m" >> "$D/nolast.toml"
done
{ for i in $(seq 1 500); do echo "login$i@localhost,password"; done
  for i in $(seq 1 2000); do echo "u$i@localhost,password"; done; } > "$D/users.csv"
first=${1%:nolast}
"$first" user import "$D/users.csv" --config "$D/hermod.toml" > /dev/null
for _ in $(seq 1 "$R"); do
  for b in "$@"; do
    cfg=$D/hermod.toml bin=$b
    case $b in *:nolast) bin=${b%:nolast} cfg=$D/nolast.toml;; esac
    "$bin" serve --config "$cfg" > "$D/serve.log" 2>&1 & PID=$!
    sleep 1.5
    if [ "$SC" = allocs ]; then
      curl -s -o "$D/a0.pprof" http://127.0.0.1:27488/debug/pprof/allocs
      n=$("$D/hb" run --server 127.0.0.1:27422 --server-pid "$PID" --scenario login --mech SCRAM-SHA-256 \
        --user-prefix login --login-users 500 --concurrency 64 --duration 5s --csv none 2>/dev/null | awk '/logins / {print $2}')
      curl -s -o "$D/a1.pprof" http://127.0.0.1:27488/debug/pprof/allocs
      objs=$(go tool pprof -sample_index=alloc_objects -base "$D/a0.pprof" -top -nodecount=1 "$D/a1.pprof" 2>/dev/null |
        sed -n 's/.* of \([0-9]*\) total.*/\1/p')
      out="$n logins, $((objs / n)) allocations per login"
    elif [ "$SC" = login ]; then
      out=$("$D/hb" run --server 127.0.0.1:27422 --server-pid "$PID" --scenario login --mech SCRAM-SHA-256 \
        --user-prefix login --login-users 500 --concurrency 64 --duration 8s --csv none 2>/dev/null | grep -E 'logins ')
    else
      out=$("$D/hb" run --server 127.0.0.1:27422 --server-pid "$PID" --scenario messages --user-prefix u \
        --n "${NMSG:-1000}" --rate 5000 --window 200 --duration 8s --csv none 2>/dev/null | grep -E 'per CPU-second')
    fi
    [ "$SC" = allocs ] || out=$(echo "$out" | grep -oE '[0-9]+ (logins|delivered) per CPU-second')
    echo "$(basename "$bin") $(basename "$cfg" .toml): $out"
    kill "$PID"; wait "$PID" 2>/dev/null
  done
done
