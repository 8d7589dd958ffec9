#!/usr/bin/env bash
# Decode speed of entity-train against llama.cpp on the same model and machine (DESIGN.md section
# 7: "decode tokens/s of our inference against llama.cpp on the same GGUF").
#
# usage: scripts/bench/decode_vs_llamacpp.sh HF_MODEL_DIR MODEL.gguf [promptLen=128] [gen=64] [threads=0]
# MODEL.gguf must be the GGUF export (F32, or BF16 with --bf16 below) of HF_MODEL_DIR. llama.cpp
# comes from node-llama-cpp: run `npm ci --omit=optional --ignore-scripts` in interop/ once.
# Run on an otherwise idle machine; both sides use the same thread count (0 = every core).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
model=${1:?HF model folder}
gguf=${2:?GGUF file of the same model}
prompt=${3:-128}
gen=${4:-64}
threads=${5:-0}
echo "== entity-train"
"$root/entity-train" benchmark infer --model "$model" --prompt-len "$prompt" --gen "$gen" \
  --threads "$threads" ${ENTITY_BENCH_OPTS:-}
echo "== llama.cpp"
node "$root/interop/bench-decode.mjs" "$gguf" "$prompt" "$gen" "$threads" 3
