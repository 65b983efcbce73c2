#!/usr/bin/env bash
# The Hermod figures of 2026-11-27 (BENCHMARKS.md, "Hermod on 2026-11-27"): commit 167d1d7.
set -u
cd "$(dirname "$0")/../../.."
STEP_RATE=2500 bench/run-issue3.sh --out /tmp/h-final3 --servers hermod --reps 3 --reps19k 1 \
  --scenarios idle,login,messages,max-message-rate
