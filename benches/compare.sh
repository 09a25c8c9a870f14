#!/usr/bin/env bash
# benches/compare.sh: npm-provenance against `npm audit signatures`, same tree, same registry,
# same machine, same run. Not part of CI (.ci/run never calls it).
#
#   benches/compare.sh [--quick] [--runs N] [--latency "50 0"] [--lockfile FILE] [--no-npm]
#
# - builds release binaries (ours and the bench registry, tests/support/src/bin/bench-registry.rs);
# - starts the bench registry for the lockfile (default: the corpus theia lockfile, 2,424 registry
#   locations / 2,090 packages, plus the corpus's 7 real attested versions), with realistic
#   packument sizes and an injected latency per request, and writes the project tree npm reads;
# - serves the corpus copy of the Sigstore TUF repository on 127.0.0.1:443 as
#   tuf-repo-cdn.sigstore.dev (https, throwaway CA via NODE_EXTRA_CA_CERTS, the host name mapped by
#   a preloaded dns hook, benches/npm-dns.cjs) and runs npm under faketime (before the corpus
#   timestamp.json expiry, 2026-08-28) so its TUF client accepts the metadata;
# - per run, alternating which tool goes first: cold (a new, empty cache directory: ours
#   --cache-dir, npm --cache, which also holds npm's TUF cache; caches are deleted only at the
#   end, see run_one) then warm (same cache again), for both tools; then our full
#   mode (history on) separately; wall, CPU (user+sys), peak RSS (/usr/bin/time -v), requests;
# - a time counts only when both tools agree on verified / invalid / missing counts;
# - ends with exactly one line: npm/ours wall ratio: <cold> cold, <warm> warm (N packages, L ms latency)
#   (for the first latency given).
#
# --quick: one run, 50 ms only (under 5 minutes on 2 cores). Default: 3 runs, latencies 50 and 0.
# Needs: cargo, node + npm, python3, /usr/bin/time (Debian `time`), faketime (Debian `faketime`),
# root or CAP_NET_BIND_SERVICE for port 443 (else npm is excluded and said so).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
RUNS=3
LATENCIES="50 0"
LOCKFILE="${NPM_PROVENANCE_CORPUS:-$ROOT/../shared/corpus}/lockfiles/npm-v3-theia-2637pkgs/package-lock.json"
WITH_NPM=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; RUNS=1; LATENCIES="50"; shift ;;
    --runs) RUNS="$2"; shift 2 ;;
    --latency) LATENCIES="$2"; shift 2 ;;
    --lockfile) LOCKFILE="$2"; shift 2 ;;
    --no-npm) WITH_NPM=0; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "compare.sh: $*" >&2; }
# What the benchmark needs from Debian, installed when missing and we are root.
need_deb() { # $1 command, $2 package
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $2"
    apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$2" >/dev/null 2>&1; } || true
  fi
  command -v "$1" >/dev/null
}
need_deb /usr/bin/time time || true
[ "$WITH_NPM" = 1 ] && { need_deb faketime faketime || true; }
for tool in python3 /usr/bin/time cargo; do
  command -v "$tool" >/dev/null || { log "$tool is required"; exit 2; }
done
[ -f "$LOCKFILE" ] || { log "lockfile not found: $LOCKFILE"; exit 2; }
if [ "$WITH_NPM" = 1 ]; then
  for tool in node npm faketime; do
    command -v "$tool" >/dev/null || { log "$tool not found: npm is excluded"; WITH_NPM=0; }
  done
  if [ "$WITH_NPM" = 1 ] && [ "$(id -u)" != 0 ]; then
    log "not root: cannot serve TUF on port 443, npm is excluded"; WITH_NPM=0
  fi
fi

log "building release binaries"
cargo build --release --quiet --bin npm-provenance
cargo build --release --quiet -p npm-provenance-testkit --bin bench-registry
OURS="$ROOT/target/release/npm-provenance"
REGISTRY="$ROOT/target/release/bench-registry"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/npmprov-bench.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM
mkdir -p "$WORK/home" "$WORK/results"
: >"$WORK/home/.npmrc"
RESULTS="$WORK/results/runs.jsonl"
: >"$RESULTS"

start_server() { # $1 latency
  local out="$WORK/server"
  rm -rf "$out"
  local tuf=()
  [ "$WITH_NPM" = 1 ] && tuf=(--tuf-port 443)
  local tree=()
  [ -d "$WORK/tree" ] || tree=(--tree "$WORK/tree")
  "$REGISTRY" --lockfile "$LOCKFILE" --out "$out" "${tree[@]}" --latency-ms "$1" \
    --seconds 3000 "${tuf[@]}" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do
    [ -f "$out/ready" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 2; }
    sleep 0.5
  done
  [ -f "$out/ready" ] || { log "bench registry did not start"; exit 2; }
  URL="$(head -1 "$out/registry-url")"
  CONTROL="$(head -1 "$out/control-url")"
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

http_get() { python3 -c 'import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1],timeout=10).read().decode())' "$1"; }

# run_one TOOL MODE(cold|warm) LATENCY RUN: appends one JSON line to $RESULTS.
run_one() {
  local tool="$1" mode="$2" lat="$3" run="$4"
  # Cold: a cache directory that never existed (the warm run after it reuses it). Caches are
  # deleted only when the benchmark ends: on a file system without a journal (this machine's
  # ext4), ext4 skips inodes freed in the last minutes when it allocates one (its
  # `recently_deleted` check), so a run creating thousands of files just after
  # `rm -rf` of the previous run's cache paid for that delete, a cost of the harness, not of
  # either tool (`perf`: 30-40% of a cold run's CPU in `recently_deleted`).
  local cache="$WORK/cache-$tool-$lat-$run"
  mkdir -p "$cache"
  http_get "${CONTROL}reset" >/dev/null
  local out="$WORK/out-$tool-$mode" timef="$WORK/time-$tool-$mode" rc=0
  case "$tool" in
    ours|ours-full)
      local hist=(--no-history)
      [ "$tool" = ours-full ] && hist=()
      # The bench registry stands in for the public registry, where the default
      # `--attestations auto` asks only for the versions the packuments announce (as npm
      # does); on 127.0.0.1 `auto` would ask for every version, so say it explicitly.
      hist+=(--attestations announced)
      ( cd "$WORK/tree" && env -i HOME="$WORK/home" PATH="$PATH" NO_COLOR=1 \
          /usr/bin/time -v -o "$timef" "$OURS" verify . --metadata-registry "$URL" \
          --npm-keys "$WORK/server/npm-keys.json" --cache-dir "$cache" \
          --format json --output "$out.json" "${hist[@]}" ) >"$out.log" 2>&1 || rc=$?
      ;;
    npm)
      ( cd "$WORK/tree" && env -i HOME="$WORK/home" PATH="$PATH" NO_COLOR=1 \
          npm_config_userconfig="$WORK/home/.npmrc" \
          NODE_OPTIONS="--require $ROOT/benches/npm-dns.cjs" \
          NODE_EXTRA_CA_CERTS="$WORK/server/tuf-ca.pem" \
          /usr/bin/time -v -o "$timef" faketime '2026-08-01 00:00:00' \
          npm audit signatures --registry "$URL" --cache "$cache" --no-update-notifier \
          --color=false ) >"$out.log" 2>&1 || rc=$?
      ;;
  esac
  local counts
  counts="$(http_get "${CONTROL}count")"
  python3 "$ROOT/benches/parse_run.py" record --tool "$tool" --mode "$mode" --latency "$lat" \
    --run "$run" --rc "$rc" --time "$timef" --log "$out.log" --report "$out.json" \
    --counts "$counts" >>"$RESULTS"
  python3 "$ROOT/benches/parse_run.py" line "$(tail -1 "$RESULTS")" >&2
}

FIRST_LAT="${LATENCIES%% *}"
for lat in $LATENCIES; do
  log "latency $lat ms: starting the bench registry"
  start_server "$lat"
  log "$(python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print(d["names"],"names,",d["full_packument_bytes"]//1048576,"MiB of full packuments, sizes",d["size_classes"])' "$WORK/server/ready")"
  for run in $(seq "$RUNS"); do
    order="ours npm"
    [ $((run % 2)) = 0 ] && order="npm ours"
    for tool in $order; do
      [ "$tool" = npm ] && [ "$WITH_NPM" = 0 ] && continue
      run_one "$tool" cold "$lat" "$run"
      run_one "$tool" warm "$lat" "$run"
    done
  done
  for run in $(seq "$RUNS"); do
    run_one ours-full cold "$lat" "$run"
    run_one ours-full warm "$lat" "$run"
  done
  stop_server
done

cp "$RESULTS" "${BENCH_RESULTS:-/tmp/npmprov-bench-last.jsonl}" 2>/dev/null || true
python3 "$ROOT/benches/parse_run.py" summary --results "$RESULTS" --first-latency "$FIRST_LAT" \
  --with-npm "$WITH_NPM"
