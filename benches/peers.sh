#!/usr/bin/env bash
# benches/peers.sh — warden next to its peer secret scanners, through the shared harness.
#
# Usage:
#   bash benches/peers.sh REPO_PATH              # e.g. a bare clone of rust-lang/cargo
#   WORKLOADS=precommit bash benches/peers.sh /work/data/cargo.git
#
# What it does:
#   1. builds warden in release mode (CARGO_TARGET_DIR honoured; default ./target);
#   2. sets OURS_PRECOMMIT / OURS_RANGE / OURS_HISTORY for the modes `warden scan --help`
#      actually offers (--staged today; --range / --history once they exist), OURS_COUNT
#      (length of the top-level "findings" array of the JSON report), OURS_NAME=warden;
#   3. runs /work/shared/bench/peers.sh REPO_PATH with TOOLS="betterleaks kingfisher ours"
#      unless TOOLS is already set.
# Every other knob of the harness passes through (WORKLOADS, SIZES, RUNS, WORK, ...); see
# the header of /work/shared/bench/peers.sh. Install the peers first with
# /work/shared/bench/install-peers.sh. Never point REPO_PATH inside this repository.
#
# Extra knobs:
#   PEERS_SH     the shared harness             [/work/shared/bench/peers.sh]
#   WARDEN_BIN   use this binary, skip the build
set -euo pipefail

REPO=${1:?usage: benches/peers.sh REPO_PATH}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_SH=${PEERS_SH:-/work/shared/bench/peers.sh}

if [[ -z ${WARDEN_BIN:-} ]]; then
  (cd "$HERE" && cargo build --release --quiet --bin warden)
  WARDEN_BIN=${CARGO_TARGET_DIR:-$HERE/target}/release/warden
fi
[[ -x $WARDEN_BIN ]] || { echo "no warden binary at $WARDEN_BIN" >&2; exit 2; }
echo "# warden: $WARDEN_BIN ($("$WARDEN_BIN" --version)), $(git -C "$HERE" rev-parse --short HEAD)"

W=$(printf '%q' "$WARDEN_BIN")
SCAN_HELP=$("$WARDEN_BIN" scan --help)
has() { grep -q -- "$1" <<<"$SCAN_HELP"; }

unset OURS_PRECOMMIT OURS_RANGE OURS_HISTORY
has '--staged' && export OURS_PRECOMMIT="$W scan --staged --format json -o \"\$OUT_F\""
has '--range' && export OURS_RANGE="$W scan --range \"\$BASE..HEAD\" --format json -o \"\$OUT_F\""
has '--history' && export OURS_HISTORY="$W scan --history --format json -o \"\$OUT_F\""
export OURS_COUNT='python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))[\"findings\"] or []))" "$OUT_F" 2>/dev/null || echo 0'
export OURS_NAME=warden
export TOOLS=${TOOLS:-"betterleaks kingfisher ours"}
echo "# OURS_PRECOMMIT=${OURS_PRECOMMIT:-}"
echo "# OURS_RANGE=${OURS_RANGE:-}"
echo "# OURS_HISTORY=${OURS_HISTORY:-}"

exec bash "$PEERS_SH" "$REPO"
