#!/usr/bin/env bash
# Thin wrapper over `entity-train estimate-memory`: every argument is passed on unchanged.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: scripts/estimate_memory.sh (--model DIR | --shape NAME) [OPTIONS]

Estimates the peak memory of a training run (weights, adapters, gradients, AdamW state,
activations, logits chunk, workspace, runtime) and compares it with the device.
Runs `entity-train estimate-memory` with the same arguments.

Examples:
  scripts/estimate_memory.sh --shape llama-3-8b --method qlora --batch 2 --seq 1024 \
      --checkpointing --device cuda --device-memory 24GB
  scripts/estimate_memory.sh --shape smollm2-135m --method lora --device cpu
USAGE
}
. "$(dirname "${BASH_SOURCE[0]}")/entity_train_command.sh"
run_entity_train estimate-memory "$@"
