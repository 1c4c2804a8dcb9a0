#!/usr/bin/env bash
# One command for the accuracy evaluation (see eval/README.md):
#   bash eval/run.sh
# builds warden (release), generates warden's own corpus (examples/eval_corpus.rs) and the
# independent corpus (eval/independent_corpus.py) into a temp dir, runs warden, betterleaks
# and kingfisher on both, and prints precision / recall / F1 per provider and overall per
# tool as Markdown tables (eval/score.py). Details (every FP and miss, redacted) are written
# next to the corpora; the path is printed at the end.
#
# Environment: SEED (default 7), OUT (default a new temp dir), PEERS_BIN (default
# ${TMPDIR:-/tmp}/warden-peers/venv/bin, made by /work/shared/bench/install-peers.sh),
# TOOLS (default "warden betterleaks kingfisher"), CARGO_TARGET_DIR (cargo's default).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SEED=${SEED:-7}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/warden-eval.XXXXXX")}
PEERS_BIN=${PEERS_BIN:-${TMPDIR:-/tmp}/warden-peers/venv/bin}
TOOLS=${TOOLS:-"warden betterleaks kingfisher"}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
mkdir -p "$OUT"

echo "# building warden and the corpus generator (release)" >&2
(cd "$REPO" && cargo build --release --quiet --bin warden --example eval_corpus)
WARDEN=$TARGET/release/warden

echo "# generating corpora in $OUT (seed $SEED)" >&2
rm -rf "$OUT/own" "$OUT/independent"
"$TARGET/release/examples/eval_corpus" "$OUT/own" --seed "$SEED"
[[ -f "$HERE/independent_corpus.py" ]] && python3 "$HERE/independent_corpus.py" "$OUT/independent" --seed "$SEED"

have() { [[ " $TOOLS " == *" $1 "* ]]; }
run_tools() { # run_tools CORPUS_DIR -> reports in CORPUS_DIR/reports, spec args on stdout
  local dir=$1 rep=$1/reports specs=()
  mkdir -p "$rep"
  if have warden; then
    (cd "$dir/files" && "$WARDEN" scan . --format json --output "$rep/warden.json" 2>"$rep/warden.stderr") || true
    specs+=("warden=warden:$rep/warden.json")
  fi
  if have betterleaks; then
    if [[ -x $PEERS_BIN/betterleaks ]]; then
      (cd "$dir/files" && "$PEERS_BIN/betterleaks" . --no-banner -l error --exit-code 0 \
        -o "$rep/betterleaks.json" >/dev/null 2>"$rep/betterleaks.stderr") || true
      specs+=("betterleaks=betterleaks:$rep/betterleaks.json")
    else
      echo "# betterleaks not found in $PEERS_BIN (run /work/shared/bench/install-peers.sh)" >&2
    fi
  fi
  if have kingfisher; then
    if [[ -x $PEERS_BIN/kingfisher ]]; then
      (cd "$dir/files" && "$PEERS_BIN/kingfisher" scan . --no-validate --no-update-check --no-dedup -q \
        --format json -o "$rep/kingfisher.json" >/dev/null 2>"$rep/kingfisher.stderr") || true
      specs+=("kingfisher=kingfisher:$rep/kingfisher.json")
    else
      echo "# kingfisher not found in $PEERS_BIN (run /work/shared/bench/install-peers.sh)" >&2
    fi
  fi
  printf '%s\n' "${specs[@]}"
}

echo "# versions: warden $("$WARDEN" --version 2>&1 | head -1)" \
  "| betterleaks $("$PEERS_BIN/betterleaks" --version 2>&1 | head -1 || echo n/a)" \
  "| kingfisher $("$PEERS_BIN/kingfisher" --version 2>&1 | head -1 || echo n/a)" >&2
echo
for corpus in own independent; do
  [[ -f $OUT/$corpus/labels.json ]] || continue
  mapfile -t specs < <(run_tools "$OUT/$corpus")
  title="warden's own corpus (examples/eval_corpus.rs)"
  subset= subset2= subset3=
  [[ $corpus == independent ]] && title="independent corpus (eval/independent_corpus.py)" && subset=holdout/ && subset2=holdout2/ && subset3=holdout3/
  python3 "$HERE/score.py" --labels "$OUT/$corpus/labels.json" --root "$OUT/$corpus/files" \
    --title "$title" --details "$OUT/$corpus/details.md" --json "$OUT/$corpus/scores.json" \
    ${subset:+--subset "$subset"} ${subset2:+--subset "$subset2"} ${subset3:+--subset "$subset3"} "${specs[@]}"
done
echo "Details (every false positive and miss, values redacted): $OUT/own/details.md, $OUT/independent/details.md"
