#!/usr/bin/env bash
# Thin wrapper over `entity-train merge-adapter`: every argument is passed on unchanged.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: scripts/merge_adapter.sh --base DIR --adapter DIR --out DIR [OPTIONS]

Merges a LoRA/PEFT adapter into its base model and writes a plain Hugging Face model folder
(what GGUF conversion and most inference tools expect).
Runs `entity-train merge-adapter` with the same arguments.

Examples:
  scripts/merge_adapter.sh --base models/smollm2-135m --adapter runs/my-run/final-model \
      --out runs/my-run/merged
  scripts/merge_adapter.sh --base BASE --adapter ADAPTER --out OUT --dtype bf16
USAGE
}
. "$(dirname "${BASH_SOURCE[0]}")/entity_train_command.sh"
run_entity_train merge-adapter "$@"
