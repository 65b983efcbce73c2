#!/usr/bin/env bash
# Reproduce every server figure of issue 3 (BENCHMARKS.md): Hermod, ejabberd 23.01 and
# Prosody 0.12 side by side on this machine, in one run.
#
#   bench/run-issue3.sh [--out DIR] [--servers hermod,ejabberd,prosody] [--reps N]
#                       [--reps19k N] [--quick] [--scenarios LIST]
#
# --scenarios (default idle,login,messages: issue 3's figures) may add roster-login
# (issue 5: the presence users log in again, each with $ROSTER mutual contacts; needs
# presence in the same run) and the issue 4 scenarios: max-message-rate (steps until p99 > 5 ms or loss), presence ($PRES_USERS
# users with $ROSTER mutual contacts, provisioned over XMPP on the first run),
# muc (rooms of 10; skipped for a server without MUC, i.e. Hermod today) and web
# (the messages open loop over WebSocket and BOSH; ejabberd and Prosody only, Hermod
# has neither yet). Every run writes its time-series CSV and PNG charts to DIR/series/.
#
# It builds hermod and hermod-bench, starts each server on loopback ports of its own,
# provisions accounts, runs the idle, login and messages scenarios, collects one JSON
# line per run in DIR/results.jsonl, the harness output in DIR/bench.txt, a CPU profile
# of Hermod under message load in DIR/hermod-messages.pprof (with its top in
# DIR/hermod-messages-top.txt), the machine description in DIR/machine.txt, and the
# per-label medians in DIR/summary.md. Everything it started is stopped on exit, error
# and interrupt included. Each harness run is bounded by --timeout.
#
# Per server (REPS runs each unless said otherwise):
#   idle      plaintext and STARTTLS, PLAIN, resource + presence: the first run ramps to
#             19,000 sessions over 2 shards and samples at 10,000 and 19,000; the other
#             REPS-1 runs stop at 10,000 (the 19k runs are the slow ones: REPS19K of them).
#             The server is restarted before each run, so RSS starts from a fresh process.
#   login     plaintext, SCRAM-SHA-256 then PLAIN, accounts login1..login$LOGIN_USERS,
#             64 cycles in flight (ejabberd takes 100 ms to close a stream: fewer
#             would measure that wait rather than its CPU).
#   messages  $MSG_USERS sessions: closed loop (the maximum rate), then open loop at half
#             the median maximum (the latency figure).
#
# Peers run from ../shared/peers/*.sh (never edited); the configuration each script
# generates in its DIR is edited here so that all three servers run alike:
#   - STARTTLS optional (plaintext runs possible), PLAIN allowed in the clear;
#   - message archiving (MAM) off: Hermod has none yet, and every chat message would
#     otherwise be written to disk by the peers;
#   - ejabberd stores SCRAM-SHA-256 keys for the login accounts (like Hermod), plain
#     passwords for the session accounts (the script's default; registering 19,000
#     accounts with SCRAM keys takes ejabberd about 30 ms each). Prosody 0.12 stores
#     SHA-256 keys not at all (internal_hashed is SCRAM-SHA-1 only): it keeps the
#     script's internal_plain and derives SCRAM keys at each login.
# Hermod uses the same kind of certificate as the peers (RSA 2048, self-signed).
#
# Idle sessions with rosters (issue 4): IDLE_ROSTER=R ROSTER_IMPORT=1 gives each of the
# N_BIG idle users R mutual contacts (subscription both, the presence scenario's ring:
# user i's contacts are i±1..i±R/2 modulo N_BIG), provisioned straight into each
# server's storage before its idle runs, whose labels get a -rosterR suffix. The
# rosters come from `hermod-bench rosters`: Hermod imports its CSV with `hermod roster
# import` (server stopped); ejabberd's `import_piefxis` of its XEP-0227 file creates
# the N_BIG accounts (password "password", stored plain as registration does) with
# their rosters; Prosody gets roster files in its data directory. Each import is timed
# in run.log. IDLE_ROSTER=0 (the default) is the roster-less run. N_BIG and N_MID (the
# idle sizes, 19000 and 10000) may be set in the environment for a smaller run.
# SETTLE (default 30s) is how long the idle sessions stay quiet before the sample: the
# server compacts a connection after 5-10 s without traffic and trims its heap 2 s
# later, so 30 s measures idle sessions, not ones still settling. IDLE_TLS (default
# plain,starttls) chooses the idle runs' transports.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$(cd "$ROOT/.." && pwd)/shared/peers}
OUT=/tmp/hermod-issue3/$(date -u +%Y%m%dT%H%M%SZ)
SERVERS=hermod,ejabberd,prosody
REPS=3
REPS19K=1
QUICK=0
SCENARIOS=idle,login,messages
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2;;
    --servers) SERVERS=$2; shift 2;;
    --reps) REPS=$2; shift 2;;
    --reps19k) REPS19K=$2; shift 2;;
    --quick) QUICK=1; shift;;
    --scenarios) SCENARIOS=$2; shift 2;;
    -h|--help) sed -n '2,56p' "$0"; exit 0;;
    *) echo "unknown option: $1" >&2; exit 2;;
  esac
done

# Sizes. --quick is a smoke test of the script itself, not a measurement.
N_BIG=${N_BIG:-19000} N_MID=${N_MID:-10000} LOGIN_USERS=500 MSG_USERS=2000
SETTLE=${SETTLE:-30s} WINDOW=10s IDLE_TLS=${IDLE_TLS:-plain,starttls}
PRES_USERS=${PRES_USERS:-1000} ROSTER=${ROSTER:-100} PRES_RATE=${PRES_RATE:-200}
MUC_USERS=1000 ROOM_SIZE=10 MUC_RATE=200 WEB_USERS=200 WEB_RATE=500 STEP=5s
if [ "$QUICK" = 1 ]; then
  N_BIG=600 N_MID=300 LOGIN_USERS=50 MSG_USERS=200 SETTLE=2s WINDOW=3s REPS=1 REPS19K=1
  PRES_USERS=100 ROSTER=10 MUC_USERS=50 WEB_USERS=20 WEB_RATE=100 STEP=2s
fi
has() { [[ ",$SCENARIOS," == *",$1,"* ]]; }
ROSTER_IMPORT=${ROSTER_IMPORT:-0} IDLE_ROSTER=${IDLE_ROSTER:-0}
if [ "$IDLE_ROSTER" != 0 ]; then
  if [ "$ROSTER_IMPORT" != 1 ]; then
    echo "IDLE_ROSTER=$IDLE_ROSTER needs ROSTER_IMPORT=1: over XMPP, $N_BIG rosters take far too long" >&2; exit 2
  fi
  if [ $((IDLE_ROSTER % 2)) != 0 ] || [ "$IDLE_ROSTER" -ge "$N_BIG" ]; then
    echo "IDLE_ROSTER=$IDLE_ROSTER: an even number below N_BIG=$N_BIG" >&2; exit 2
  fi
fi
# roster_import: whether the idle users get rosters imported into the servers' storage.
roster_import() { [ "$ROSTER_IMPORT" = 1 ] && [ "$IDLE_ROSTER" -gt 0 ] && has idle; }
IDLE_SUFFIX=""
roster_import && IDLE_SUFFIX=-roster$IDLE_ROSTER
N_ACCOUNTS=$N_BIG
# Without the idle scenario no run needs the 19,000 accounts: provision what the others use.
has idle || N_ACCOUNTS=$(( MSG_USERS > PRES_USERS ? MSG_USERS : PRES_USERS ))

# Loopback ports below the ephemeral range (32768-60999), so that no client socket of
# this or any other process can be holding them.
HERMOD_PORT=26422 HERMOD_ADMIN=26488
EJ_PORT=26222 EJ_HTTP=26280 EJ_DIST=26290
PR_PORT=26322 PR_HTTP=26380

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$OUT/bin
RESULTS=$OUT/results.jsonl
chmod 755 "$OUT"   # the peers run as their own users and need to traverse it

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }

# The hard limit is 20,000 here; every server and shard inherits it.
ulimit -n "$(ulimit -Hn)"

HERMOD_PID="" EJ_PID="" PR_PID=""

wait_port() { # port seconds
  local i
  for i in $(seq 1 $(($2 * 10))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

stop_pid() { # pid name
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "$2 (pid $pid) ignored SIGTERM for 30 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$HERMOD_PID" hermod
  stop_pid "$EJ_PID" ejabberd
  stop_pid "$PR_PID" prosody
  log "stopped every server this script started; results in $OUT (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT INT TERM

machine_info() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "ram: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel: $(uname -r)"
    echo "go: $(go version)"
    echo "ejabberd: $(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null || echo absent)"
    echo "prosody: $(dpkg-query -W -f '${Version}' prosody 2>/dev/null || echo absent)"
    echo "erlang: $(dpkg-query -W -f '${Version}' erlang-base 2>/dev/null || echo absent)"
    echo "hermod commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "open files (hard): $(ulimit -Hn)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$OUT/machine.txt"
  cat "$OUT/machine.txt" >&2
}

build() {
  log "building hermod and hermod-bench"
  mkdir -p "$BIN"
  (cd "$ROOT" && go build -o "$BIN/hermod" ./cmd/hermod && go build -o "$BIN/hermod-bench" ./bench/cmd/hermod-bench)
}

# bench LABEL ARGS...: one harness run; its JSON line goes to results.jsonl.
bench() {
  local label=$1; shift
  log "run $label"
  mkdir -p "$OUT/series"
  # A failed run is logged and counted, not fatal: the other runs still measure.
  if ! "$BIN/hermod-bench" run --label "$label" --json "$RESULTS" --timeout 40m --progress=false \
    --csv "$OUT/series/$label-$(date -u +%H%M%S).csv" "$@" 2>>"$OUT/bench.log" | tee -a "$OUT/bench.txt"; then
    log "run $label FAILED (see $OUT/bench.log)"
    FAILED_RUNS=$((FAILED_RUNS + 1))
  fi
}
FAILED_RUNS=0

# median_of LABEL FIELD (a jq path into one result line)
median_of() {
  jq -s --arg l "$1" "[.[] | select(.label == \$l) | $2] | sort | if length == 0 then 0 else .[(length - 1) / 2 | floor] end" "$RESULTS"
}

# ---------------------------------------------------------------- Hermod
H=$OUT/hermod
HERMOD_SERVE=()

hermod_setup() {
  log "hermod: configuration, certificate, $N_ACCOUNTS + $LOGIN_USERS accounts"
  mkdir -p "$H/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" -keyout "$H/certs/key.pem" -out "$H/certs/cert.pem" >/dev/null 2>&1
  cat > "$H/hermod.toml" <<CFG
# generated by bench/run-issue3.sh
[general]
hosts = ["localhost"]
data_dir = "$H/data"
loglevel = "warn"
[[listen.c2s]]
address = "127.0.0.1"
port = $HERMOD_PORT
tls = "starttls"
[admin]
address = "127.0.0.1:$HERMOD_ADMIN"
[tls]
certfile = "$H/certs/cert.pem"
keyfile = "$H/certs/key.pem"
CFG
  {
    for i in $(seq 1 "$N_ACCOUNTS"); do echo "user$i@localhost,password"; done
    for i in $(seq 1 "$LOGIN_USERS"); do echo "login$i@localhost,password"; done
  } > "$H/users.csv"
  "$BIN/hermod" user import "$H/users.csv" --config "$H/hermod.toml" | tail -1
  if roster_import; then
    log "hermod: importing $N_BIG rosters of $IDLE_ROSTER contacts (server stopped)"
    "$BIN/hermod-bench" rosters --n "$N_BIG" --roster "$IDLE_ROSTER" --format hermod --out "$H/rosters.csv"
    log "hermod: $("$BIN/hermod" roster import "$H/rosters.csv" --config "$H/hermod.toml" 2>/dev/null)"
  fi
  HERMOD_SERVE=("$BIN/hermod" serve --config "$H/hermod.toml")
  hermod_start || { log "hermod did not start"; tail -5 "$H/serve.log" >&2; return 1; }
  hermod_stop
}

hermod_start() {
  "${HERMOD_SERVE[@]}" > "$H/serve.log" 2>&1 &
  HERMOD_PID=$!
  echo "$HERMOD_PID" > "$H/hermod.pid"
  if wait_port "$HERMOD_PORT" 15 && kill -0 "$HERMOD_PID" 2>/dev/null; then
    return 0
  fi
  stop_pid "$HERMOD_PID" hermod
  HERMOD_PID=""
  return 1
}
hermod_stop() { stop_pid "$HERMOD_PID" hermod; HERMOD_PID=""; }

# ---------------------------------------------------------------- ejabberd
E=$OUT/ejabberd

ej_start() {
  "$E/ejabberdctl" start >>"$E/logs/start.log" 2>&1 </dev/null
  wait_port "$EJ_PORT" 60 && wait_port "$EJ_HTTP" 30 || { log "ejabberd did not start"; tail -20 "$E/logs/ejabberd.log" >&2; return 1; }
  EJ_PID=$(cat "$E/ejabberd.pid")
}
ej_stop() {
  stop_pid "$EJ_PID" ejabberd
  EJ_PID=""
}

ej_format() { # plain|scram
  sed -i "s/^auth_password_format: .*/auth_password_format: $1/" "$E/ejabberd.yml"
}

# ej_register FIRST LAST PREFIX: mod_http_api /api/register (what peers/bulk-accounts.sh
# calls), over 8 keep-alive connections instead of a curl process per account.
ej_register() {
  python3 - "$EJ_HTTP" "$1" "$2" "$3" <<'PY'
import http.client, json, sys, threading
port, first, last, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lock, nxt, errs = threading.Lock(), [first], []
def work():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while True:
        with lock:
            i = nxt[0]; nxt[0] += 1
        if i > last:
            return
        c.request("POST", "/api/register", json.dumps({"user": f"{prefix}{i}", "host": "localhost", "password": "password"}),
                  {"Content-Type": "application/json"})
        r = c.getresponse(); body = r.read()
        if r.status != 200 and b"already" not in body and b"conflict" not in body:
            with lock: errs.append((i, r.status, body[:200]))
ts = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
if errs:
    sys.exit(f"{len(errs)} registrations failed, first: {errs[0]}")
PY
}

ej_setup() {
  log "ejabberd: start via peers/ejabberd.sh, configure, $LOGIN_USERS SCRAM + $N_ACCOUNTS plain accounts"
  rm -rf "$E"
  EJ_PID=$("$PEERS/ejabberd.sh" --dir "$E" --c2s-port "$EJ_PORT" --http-port "$EJ_HTTP" --dist-port "$EJ_DIST")
  ej_stop
  python3 - "$E/ejabberd.yml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
s = s.replace("    starttls_required: true\n", "    starttls: true\n")
s = s.replace("auth_password_format: plain\n", "auth_password_format: scram\nauth_scram_hash: sha256\n")
s = re.sub(r"  mod_mam:\n(    .*\n)+", "", s)
s = s.replace("    access_mam:\n      - allow\n", "").replace("    default_room_options:\n      mam: true\n", "")
s = s.replace("loglevel: info", "loglevel: warning")
open(p, "w").write(s)
PY
  ej_start
  ej_register 1 "$LOGIN_USERS" login
  ej_stop
  ej_format plain
  ej_start
  if roster_import; then
    ej_import_rosters
  else
    ej_register 1 "$N_ACCOUNTS" user
  fi
  ej_stop
}

# pr_rosters N R: the ring rosters of user1..userN, R contacts each, written as
# Prosody's roster files into its data directory (owned by prosody).
pr_rosters() {
  "$BIN/hermod-bench" rosters --n "$1" --roster "$2" --format prosody --out "$P/data"
  if [ "$(id -u)" = 0 ]; then chown -R prosody:prosody "$P/data"; fi
}

# ej_import_rosters: the N_BIG session accounts and their rosters in one import_piefxis
# (XEP-0227), which stops at an account that exists: it replaces ej_register for them.
# --no-timeout: ejabberdctl gives up on a command after 60 s, the import goes on.
ej_import_rosters() {
  local t0 t1 items=$((N_BIG * IDLE_ROSTER)) size
  log "ejabberd: import_piefxis of $N_BIG accounts with $IDLE_ROSTER contacts each"
  "$BIN/hermod-bench" rosters --n "$N_BIG" --roster "$IDLE_ROSTER" --format piefxis --out "$E/rosters.xml"
  chmod 644 "$E/rosters.xml"
  t0=$(date +%s.%N)
  "$E/ejabberdctl" --no-timeout import_piefxis "$E/rosters.xml"
  t1=$(date +%s.%N)
  size=$("$E/ejabberdctl" mnesia_table_info roster | sed -n 's/^ *{size,\([0-9]*\)}.*/\1/p')
  log "ejabberd: imported $N_BIG accounts and $items roster items in $(awk -v a="$t0" -v b="$t1" -v n="$items" \
    'BEGIN { printf "%.1f s (%.0f items/s)", b - a, n / (b - a) }'); the roster table holds ${size:-?} items"
  [ "${size:-0}" -ge "$items" ] || { log "ejabberd: roster import incomplete"; return 1; }
}

# ---------------------------------------------------------------- Prosody
P=$OUT/prosody

pr_start() {
  local run_as=()
  [ "$(id -u)" = 0 ] && run_as=(setpriv --reuid=prosody --regid=prosody --init-groups --reset-env)
  nohup "${run_as[@]}" prosody -F --config "$P/prosody.cfg.lua" >>"$P/stdout.log" 2>&1 </dev/null &
  PR_PID=$!
  wait_port "$PR_PORT" 30 || { log "prosody did not start"; tail -20 "$P/prosody.log" >&2; return 1; }
}
pr_stop() { stop_pid "$PR_PID" prosody; PR_PID=""; }

pr_setup() {
  log "prosody: start via peers/prosody.sh, configure, $N_ACCOUNTS + $LOGIN_USERS accounts"
  rm -rf "$P"
  PR_PID=$("$PEERS/prosody.sh" --dir "$P" --c2s-port "$PR_PORT" --http-port "$PR_HTTP")
  pr_stop
  python3 - "$P/prosody.cfg.lua" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace("c2s_require_encryption = true", "c2s_require_encryption = false")
s = s.replace("allow_unencrypted_plain_auth = false", "allow_unencrypted_plain_auth = true")
s = s.replace('"ping"; "register"; "mam";', '"ping"; "register";')
s = s.replace('  modules_enabled = { "muc_mam" }\n', "")
s = s.replace('levels = { min = "info" }', 'levels = { min = "warn" }')
open(p, "w").write(s)
PY
  "$PEERS/bulk-accounts.sh" prosody "$P" "$N_ACCOUNTS" user >/dev/null
  "$PEERS/bulk-accounts.sh" prosody "$P" "$LOGIN_USERS" login >/dev/null
  if roster_import; then
    log "prosody: writing $N_BIG rosters of $IDLE_ROSTER contacts into its storage"
    pr_rosters "$N_BIG" "$IDLE_ROSTER"
  fi
  if [ "${SEED_ROSTERS:-0}" = 1 ] && has presence; then
    # Prosody did not complete the rosters provisioned over XMPP (9 of 10,100 items in 5
    # minutes): write the presence users' rosters into its storage files instead, the
    # same mutual ring the harness builds (i±1..i±ROSTER/2), subscription both.
    roster_import && log "prosody: SEED_ROSTERS replaces the idle rosters of user1..user$PRES_USERS"
    log "prosody: seeding $PRES_USERS rosters of $ROSTER mutual contacts in its storage"
    pr_rosters "$PRES_USERS" "$ROSTER"
  fi
}

# ---------------------------------------------------------------- scenarios
# run_server NAME PORT START STOP [extra idle flags...]
run_server() {
  local name=$1 port=$2 start=$3 stop=$4; shift 4
  local pidfile tls tlsflag rep half maxrate
  has idle && for tls in ${IDLE_TLS//,/ }; do
    tlsflag=()
    [ "$tls" = starttls ] && tlsflag=(--starttls)
    for rep in $(seq 1 "$REPS"); do
      $start
      if [ "$rep" -le "$REPS19K" ]; then
        bench "$name-idle-$tls$IDLE_SUFFIX" --server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --scenario idle \
          --n "$N_BIG" --checkpoints "$N_MID" --shards 2 --rate 5000 --settle "$SETTLE" "${tlsflag[@]}" "$@"
      else
        bench "$name-idle-$tls$IDLE_SUFFIX" --server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --scenario idle \
          --n "$N_MID" --shards 1 --rate 5000 --settle "$SETTLE" "${tlsflag[@]}" "$@"
      fi
      $stop
    done
  done

  $start
  local mech
  has login && for mech in SCRAM-SHA-256 PLAIN; do
    for rep in $(seq 1 "$REPS"); do
      bench "$name-login-$mech" --server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --scenario login \
        --mech "$mech" --user-prefix login --login-users "$LOGIN_USERS" --concurrency 64 --duration "$WINDOW"
    done
  done
  has messages && for rep in $(seq 1 "$REPS"); do
    bench "$name-messages-max" --server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --scenario messages \
      --n "$MSG_USERS" --rate 5000 --window 200 --duration "$WINDOW"
  done
  if has messages; then
    maxrate=$(median_of "$name-messages-max" .messages.delivered_per_sec)
    half=$(awk -v m="$maxrate" 'BEGIN { printf "%d", m / 2 }')
    log "$name: median maximum $maxrate delivered/s; latency runs at $half/s"
    for rep in $(seq 1 "$REPS"); do
      bench "$name-messages-half" --server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --scenario messages \
        --n "$MSG_USERS" --rate 5000 --msg-rate "$half" --duration "$WINDOW"
    done
  fi
  issue4_scenarios "$name" "$port"
  if has roster-login; then
    # Issue 5: logins of users whose rosters hold $ROSTER mutual contacts (provisioned
    # by the presence scenario just before): roster load, initial presence broadcast
    # to the contacts online and probes to all of them, then RSS per online user.
    # The server restarts before each run, so RSS starts from a fresh process.
    for rep in $(seq 1 "$REPS"); do
      $stop
      $start
      bench "$name-roster-login" --server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --scenario idle \
        --n "$PRES_USERS" --shards 1 --rate 1000 --settle "$SETTLE"
    done
  fi
  if [ "$name" = hermod ] && has messages; then
    # A run of its own, so that profiling does not disturb the figures above.
    log "hermod: CPU profile of a maximum-rate message run"
    (sleep 3; curl -sS -o "$OUT/hermod-messages.pprof" "http://127.0.0.1:$HERMOD_ADMIN/debug/pprof/profile?seconds=8") &
    local curl_pid=$!
    bench hermod-messages-profiled --server "127.0.0.1:$port" --server-pid "$HERMOD_PID" --scenario messages \
      --n "$MSG_USERS" --rate 5000 --window 200 --duration 12s
    wait "$curl_pid" || log "hermod: no profile"
    if [ -s "$OUT/hermod-messages.pprof" ]; then
      go tool pprof -top -nodecount=45 "${HERMOD_SERVE[0]}" "$OUT/hermod-messages.pprof" > "$OUT/hermod-messages-top.txt" 2>/dev/null || true
      go tool pprof -top -cum -nodecount=45 "${HERMOD_SERVE[0]}" "$OUT/hermod-messages.pprof" > "$OUT/hermod-messages-cum.txt" 2>/dev/null || true
    fi
  fi
  $stop
}

# issue4_scenarios NAME PORT: the scenarios of issue 4 on a running server.
issue4_scenarios() {
  local name=$1 port=$2 rep prov profile=() ws bosh
  local common=(--server "127.0.0.1:$port" --server-pid "$(server_pid "$name")" --rate 2000)
  [ "$name" = hermod ] && profile=(--profile "http://127.0.0.1:$HERMOD_ADMIN" --profile-seconds 10)
  if has max-message-rate; then
    for rep in $(seq 1 "$REPS"); do
      bench "$name-max-message-rate" "${common[@]}" --scenario max-message-rate --n "$MSG_USERS" \
        --step-start 500 --step "${STEP_RATE:-1000}" --step-duration "$STEP" --warmup 5s --p99-bound "${P99_BOUND:-5ms}" --max-steps 60 "${profile[@]}"
      profile=()
    done
  fi
  if has presence; then
    prov=true   # the first run subscribes; the rosters stay for the next ones
    for rep in $(seq 1 "$REPS"); do
      bench "$name-presence" "${common[@]}" --scenario presence --n "$PRES_USERS" --roster "$ROSTER" \
        --msg-rate "$PRES_RATE" --duration "$WINDOW" --provision="$prov" --provision-timeout "${PROVISION_TIMEOUT:-30m}"
      prov=false
    done
  fi
  if has muc; then
    if [ "$name" = hermod ]; then
      log "hermod: no MUC service yet, muc skipped"
    else
      for rep in $(seq 1 "$REPS"); do
        bench "$name-muc" "${common[@]}" --scenario muc --n "$MUC_USERS" --room-size "$ROOM_SIZE" \
          --msg-rate "$MUC_RATE" --duration "$WINDOW"
      done
    fi
  fi
  if has web; then
    case $name in
      ejabberd) ws=ws://127.0.0.1:$EJ_HTTP/ws-xmpp bosh=http://127.0.0.1:$EJ_HTTP/http-bind;;
      prosody) ws=ws://127.0.0.1:$PR_HTTP/xmpp-websocket bosh=http://127.0.0.1:$PR_HTTP/http-bind;;
      *) log "$name: no WebSocket or BOSH endpoint yet, web skipped"; return 0;;
    esac
    for rep in $(seq 1 "$REPS"); do
      bench "$name-ws-messages" "${common[@]}" --scenario messages --n "$WEB_USERS" --msg-rate "$WEB_RATE" \
        --duration "$WINDOW" --transport ws --url "$ws"
      bench "$name-bosh-messages" "${common[@]}" --scenario messages --n "$WEB_USERS" --msg-rate "$WEB_RATE" \
        --duration "$WINDOW" --transport bosh --url "$bosh"
    done
  fi
}

server_pid() {
  case $1 in
    hermod) echo "$HERMOD_PID";;
    ejabberd) echo "$EJ_PID";;
    prosody) echo "$PR_PID";;
  esac
}

# ---------------------------------------------------------------- main
machine_info
build
T0=$(date +%s)
IFS=, read -r -a servers <<<"$SERVERS"
for s in "${servers[@]}"; do
  case $s in
    hermod) hermod_setup;;
    ejabberd) ej_setup;;
    prosody) pr_setup;;
    *) echo "unknown server $s" >&2; exit 2;;
  esac
done
log "provisioning took $(( $(date +%s) - T0 )) s"
T1=$(date +%s)
for s in "${servers[@]}"; do
  case $s in
    hermod) run_server hermod "$HERMOD_PORT" hermod_start hermod_stop --gc-url "http://127.0.0.1:$HERMOD_ADMIN/debug/pprof/heap?gc=1";;
    ejabberd) run_server ejabberd "$EJ_PORT" ej_start ej_stop;;
    prosody) run_server prosody "$PR_PORT" pr_start pr_stop;;
  esac
done
log "benchmarks took $(( $(date +%s) - T1 )) s"
"$BIN/hermod-bench" summarize "$RESULTS" > "$OUT/summary.md"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
cat "$OUT/summary.md"
