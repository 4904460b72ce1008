#!/usr/bin/env bash
# The libFuzzer campaign over circuit-grader's input entry points (docs/fuzzing.md).
#
#   Tools/fuzz.sh build                   build .build/fuzz/circuit-grader-fuzz (swiftc -sanitize=fuzzer,address)
#   Tools/fuzz.sh seeds                   make .build/fuzz/corpus/TARGET from the committed fixtures
#   Tools/fuzz.sh run TARGET [FLAGS...]   fuzz one entry point, e.g. `Tools/fuzz.sh run npz -runs=1000000`
#   Tools/fuzz.sh all [FLAGS...]          every entry point in turn with the same flags
#   Tools/fuzz.sh replay TARGET FILE...   run inputs once (a finding, a regression fixture)
#
# TARGET: json state-dict csv-folder npy-folder npz safetensors spec. Findings land in
# .build/fuzz/findings/TARGET/ (crash-*, timeout-*, oom-*); copy each into
# Tests/CircuitGraderTests/Fixtures/hostile/ with the error it must produce (HostileInputTests).
# A hang is an input over 2 s (-timeout=2); over-limit memory is over 2 GB RSS or one allocation over 1 GB.
# Leak detection is off (-detect_leaks=0): the Swift runtime keeps caches LeakSanitizer would report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build/fuzz"
bin="$out/circuit-grader-fuzz"
targets=(json state-dict csv-folder npy-folder npz safetensors spec)

build() {
    # A snapshot of the sources, so that editing them during the (minutes-long) build cannot break it.
    # The entry points live in the Exercises layer, so the layers up to it are compiled as one module: the
    # imports between them are dropped (every name is unique across the package).
    rm -rf "$out/src" && mkdir -p "$out/src"
    local layer
    for layer in Numerics Model Formats Exercises; do cp -R "$root/Sources/$layer" "$out/src/"; done
    cp "$root/Fuzz/FuzzHarness.swift" "$out/src/"
    find "$out/src" -name '*.swift' -exec sed -i -E '/^import (Numerics|Model|Formats|Exercises)$/d' {} +
    local sources
    mapfile -t sources < <(find "$out/src" -name '*.swift' | sort)
    rm -f "$bin"
    swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g -module-name CircuitGrader -package-name circuit_grader \
        "${sources[@]}" -o "$bin" 2>&1 | grep -v "Cannot export local symbol" || true
    test -x "$bin"
}

# One structured input: the files given, each behind a `--- NAME` line (see FuzzInput.files).
joined() {
    python3 - "$@" <<'PY'
import os, sys
out = bytearray()
for path in sys.argv[2:]:
    name, _, real = path.partition("=")
    out += b"--- " + name.encode() + b"\n" + open(real or name, "rb").read() + b"\n"
open(sys.argv[1], "wb").write(bytes(out))
PY
}

seeds() {
    local f="$root/Tests/CircuitGraderTests/Fixtures" c="$out/corpus"
    for t in "${targets[@]}"; do mkdir -p "$c/$t"; done
    cp "$root"/submissions/*/*.json "$c/json/"
    for j in "$f"/formats/{dense,anthropic,circuits,circuits-anthropic}.json "$f"/class/*.json; do cp "$j" "$c/json/fixture-$(basename "$j")"; done
    cp "$f/formats/state-dict.json" "$c/state-dict/"
    (cd "$root/exercises" && find . -name '*.json' | while read -r spec; do cp "$spec" "$c/spec/$(echo "${spec#./}" | tr / -)"; done)
    cp "$f"/binary/*.npz "$c/npz/"; cp "$f/formats/state.npz" "$c/npz/formats-state.npz"
    cp "$f"/binary/*.safetensors "$c/safetensors/"; cp "$f/formats/state.safetensors" "$c/safetensors/formats-state.safetensors"
    (cd "$f/formats/csv" && joined "$c/csv-folder/formats-csv" *)
    (cd "$f/formats/npy" && joined "$c/npy-folder/formats-npy" *)
    for npy in "$f"/binary/*.npy; do
        joined "$c/npy-folder/$(basename "$npy" .npy)" "L0H0.W_Q.npy=$npy" "L0.b_O.npy=$npy" "exercise.txt=$f/formats/npy/exercise.txt"
    done
    # Every regression fixture seeds its entry point, so the campaign starts where the findings were.
    for t in "${targets[@]}"; do
        if [ -d "$f/hostile/$t" ]; then cp -r "$f/hostile/$t/." "$c/$t/"; fi
    done
}

run() {
    local target="$1"; shift
    local max_len=16384
    [ "$target" = spec ] && max_len=65536
    mkdir -p "$out/findings/$target" "$out/corpus/$target"
    cd "$root"
    FUZZ_TARGET="$target" FUZZ_EXERCISES="$root/exercises" nice -n 10 "$bin" \
        -dict="$root/Fuzz/dict/$target.dict" -max_len="$max_len" -timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix="$out/findings/$target/" "$out/corpus/$target" "$@"
}

case "${1:-}" in
    build) build ;;
    seeds) seeds ;;
    run) shift; run "$@" ;;
    all) shift; for t in "${targets[@]}"; do run "$t" "$@"; done ;;
    replay) shift; t="$1"; shift; cd "$root"; FUZZ_TARGET="$t" FUZZ_EXERCISES="$root/exercises" "$bin" -timeout=2 -rss_limit_mb=2048 -malloc_limit_mb=1024 "$@" ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
esac
