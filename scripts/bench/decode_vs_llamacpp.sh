#!/usr/bin/env bash
# Decode speed of entity-train against llama.cpp on the same GGUF file and machine (DESIGN.md
# section 7). Both sides load MODEL.gguf itself: ours through its GGUF reader (dequantized into F32,
# or BF16 storage with ENTITY_BENCH_OPTS=--bf16), llama.cpp through node-llama-cpp's prebuilt CPU
# binaries (run `npm ci --omit=optional --ignore-scripts` in interop/ once).
#
# usage: scripts/bench/decode_vs_llamacpp.sh MODEL.gguf [promptLen=128] [gen=64] [threads=0]
# Make a model of a real size first, for example:
#   ./entity-train make-tiny-model --arch llama --hidden 576 --layers 30 --vocab 1024 --out runs/m
#   ./entity-train convert-to-gguf --model runs/m --out runs/m.f32.gguf --type f32
# Run on an otherwise idle machine; both sides use the same thread count (0 = every core).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] || [ $# -lt 1 ]; then
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi
gguf=$1
prompt=${2:-128}
gen=${3:-64}
threads=${4:-0}
echo "== entity-train"
"$root/entity-train" benchmark infer --model "$gguf" --prompt-len "$prompt" --gen "$gen" \
  --threads "$threads" ${ENTITY_BENCH_OPTS:-}
echo "== llama.cpp"
node "$root/interop/bench-decode.mjs" "$gguf" "$prompt" "$gen" "$threads" 3
