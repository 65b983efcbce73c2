#!/usr/bin/env bash
# The seed's headline measured (BENCHMARKS.md, 2026-11-27): 19,000 idle users with
# 100-contact rosters on Hermod, ejabberd and Prosody, plus one login and one messages
# run each for the charts; then Hermod's headline three times. Commit 167d1d7.
set -u
cd "$(dirname "$0")/../../.."
IDLE_ROSTER=100 ROSTER_IMPORT=1 IDLE_TLS=plain bench/run-issue3.sh --out /tmp/h-roster \
  --servers hermod,ejabberd,prosody --reps 1 --reps19k 1 --scenarios idle,login,messages
IDLE_ROSTER=100 ROSTER_IMPORT=1 IDLE_TLS=plain bench/run-issue3.sh --out /tmp/h-roster3 \
  --servers hermod --reps 3 --reps19k 3 --scenarios idle
