#!/usr/bin/env bash
# Thin wrapper over `entity-train convert-to-gguf`: every argument is passed on unchanged.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: scripts/convert_to_gguf.sh --model DIR --out FILE [--type f16|q8_0|q4_0|...] [OPTIONS]

Writes a GGUF file for llama.cpp and Ollama from a Hugging Face model folder (a merged model,
or a base model plus --adapter). No llama.cpp build or Python needed.
Runs `entity-train convert-to-gguf` with the same arguments.

Examples:
  scripts/convert_to_gguf.sh --model runs/my-run/merged --out model-q8_0.gguf --type q8_0
  scripts/convert_to_gguf.sh --model BASE --adapter runs/my-run/final-model --out lora.gguf
USAGE
}
. "$(dirname "${BASH_SOURCE[0]}")/entity_train_command.sh"
run_entity_train convert-to-gguf "$@"
