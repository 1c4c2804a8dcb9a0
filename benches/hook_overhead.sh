#!/usr/bin/env bash
# hook_overhead.sh — what a pre-commit hook manager adds to `git commit`, measured side by side
# in one hyperfine run. Each tool gets its own throw-away repository (20 committed files, one
# file changed and staged before every timed commit by hyperfine's --prepare) with its hook
# installed the tool's own way and configured with one trivial check that runs `true`:
#
#   none        no hook at all (the baseline)
#   warden      `warden install`, warden.toml: [[check]] name = "trivial", run = "true"
#   prek        `prek install`, .pre-commit-config.yaml: a local hook, entry: "true"
#   lefthook    `lefthook install` (the native Go binary from the PyPI wheel), lefthook.yml
#   pre-commit  `pre-commit install`, same config as prek (skipped when not installed)
#
# The overhead of a tool is its median minus the baseline's median. Because a shared machine's
# load drifts while hyperfine measures one command after another, the whole comparison is
# repeated ROUNDS times and each figure is the median over the rounds; the minimum and the
# CPU time (user + system, summed over the hook's processes) are reported too, as they are
# far less sensitive to other load.
#
# Usage: benches/hook_overhead.sh
# Environment (defaults in brackets):
#   WARDEN   the warden binary                 [target/release/warden, built if missing]
#   PEERS    a venv holding prek, lefthook and pre-commit (created with pip if missing)
#            [${TMPDIR:-/tmp}/warden-hook-peers]
#   RUNS     timed commits per tool             [40]
#   WARMUP   untimed commits per tool first     [5]
#   ROUNDS   repetitions of the whole comparison [3]
#   WORK     scratch directory                  [a new mktemp -d]
# Needs: git, hyperfine (apt-get install hyperfine), python3 with venv.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
WARDEN=${WARDEN:-$here/${CARGO_TARGET_DIR:-target}/release/warden}
[[ $WARDEN == /* ]] || WARDEN=$here/$WARDEN
PEERS=${PEERS:-${TMPDIR:-/tmp}/warden-hook-peers}
RUNS=${RUNS:-40}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:-$(mktemp -d)}

if [[ ! -x $WARDEN ]]; then
  (cd "$here" && cargo build --release --quiet)
fi
if [[ ! -x $PEERS/bin/prek || ! -e $PEERS/bin/lefthook ]]; then
  python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install -q prek lefthook pre-commit
fi
LEFTHOOK=$(find "$PEERS"/lib/python*/site-packages/lefthook/bin -type f -name lefthook | head -n 1)
[[ -x $LEFTHOOK ]] || { echo "no native lefthook binary under $PEERS" >&2; exit 1; }

export HOME=$WORK/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
# The native lefthook first on PATH: its hook script looks it up there.
export PATH="$(dirname "$LEFTHOOK"):$PEERS/bin:$PATH"

PRE_COMMIT_YAML='repos:
  - repo: local
    hooks:
      - id: trivial
        name: trivial
        entry: "true"
        language: system
'

new_repo() {
  local d=$WORK/$1 i
  rm -rf "$d"
  git init -q -b main "$d"
  git -C "$d" config user.name bench
  git -C "$d" config user.email bench@example.com
  git -C "$d" config gc.auto 0
  git -C "$d" config commit.gpgsign false
  for i in $(seq 1 20); do printf 'line %s\n' "$i" > "$d/file$i.txt"; done
  echo 0 > "$d/f.txt"
}

commit_all() { git -C "$WORK/$1" add -A && git -C "$WORK/$1" commit -q --no-verify -m init; }

setup() {
  new_repo none
  commit_all none

  new_repo warden
  printf '[[check]]\nname = "trivial"\nrun = "true"\n' > "$WORK/warden/warden.toml"
  commit_all warden
  (cd "$WORK/warden" && "$WARDEN" install >/dev/null)

  new_repo prek
  printf '%s' "$PRE_COMMIT_YAML" > "$WORK/prek/.pre-commit-config.yaml"
  commit_all prek
  (cd "$WORK/prek" && prek install >/dev/null)

  new_repo lefthook
  printf 'pre-commit:\n  commands:\n    trivial:\n      run: "true"\n' > "$WORK/lefthook/lefthook.yml"
  commit_all lefthook
  (cd "$WORK/lefthook" && "$LEFTHOOK" install >/dev/null)

  TOOLS="none warden prek lefthook"
  if [[ -x $PEERS/bin/pre-commit ]]; then
    new_repo pre-commit
    printf '%s' "$PRE_COMMIT_YAML" > "$WORK/pre-commit/.pre-commit-config.yaml"
    commit_all pre-commit
    (cd "$WORK/pre-commit" && pre-commit install >/dev/null)
    TOOLS="$TOOLS pre-commit"
  fi
}

# Every hook must really run its check: each tool's output of one commit must name it
# (a hook that silently found no binary would look free).
sanity() {
  local t d out
  for t in $TOOLS; do
    d=$WORK/$t
    date +%s%N > "$d/f.txt" && git -C "$d" add f.txt
    out=$(git -C "$d" commit -m sanity 2>&1) || { echo "$t: sanity commit failed: $out" >&2; exit 1; }
    case $t in
      none) ;;
      warden) grep -q '1 checks passed' <<<"$out" ;;
      *) grep -q 'trivial' <<<"$out" ;;
    esac || { echo "$t: the hook did not run its check: $out" >&2; exit 1; }
  done
}

versions() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "git: $(git --version)"
  echo "hyperfine: $(hyperfine --version)"
  echo "warden: $("$WARDEN" --version)"
  echo "prek: $(prek --version)"
  echo "lefthook: $("$LEFTHOOK" version)"
  [[ -x $PEERS/bin/pre-commit ]] && echo "pre-commit: $(pre-commit --version)"
  return 0
}

measure() {
  local args=() t d round
  for t in $TOOLS; do
    d=$WORK/$t
    args+=(--prepare "sh -c 'date +%s%N > $d/f.txt && git -C $d add f.txt'")
    args+=(--command-name "$t" "git -C $d commit -q -m bench")
  done
  rm -f "$WORK"/hook_overhead.*.json
  for round in $(seq 1 "$ROUNDS"); do
    echo "## round $round of $ROUNDS"
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
      --export-json "$WORK/hook_overhead.$round.json" "${args[@]}"
  done
}

table() {
  python3 - "$WORK"/hook_overhead.*.json <<'PY'
import json, statistics, sys
rounds = [{r["command"]: r for r in json.load(open(f))["results"]} for f in sys.argv[1:]]
def stat(name, f):
    return statistics.median(f(r[name]) for r in rounds) * 1000
median = lambda name: stat(name, lambda r: r["median"])
low = lambda name: stat(name, lambda r: r["min"])
cpu = lambda name: stat(name, lambda r: r["user"] + r["system"])
print(f"{len(rounds)} rounds; each figure is the median over the rounds")
print("| hook | median `git commit` | added (median) | min | added (min) | CPU user+sys | added CPU |")
print("|---|---|---|---|---|---|---|")
for name in rounds[0]:
    add = lambda f: "—" if name == "none" else f"+{f(name) - f('none'):.1f} ms"
    print(f"| {name} | {median(name):.1f} ms | {add(median)} | {low(name):.1f} ms | {add(low)}"
          f" | {cpu(name):.1f} ms | {add(cpu)} |")
PY
}

setup
sanity
versions
measure
table
echo "(raw results: $WORK/hook_overhead.<round>.json)"
