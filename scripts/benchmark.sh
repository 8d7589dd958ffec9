#!/usr/bin/env bash
# Thin wrapper over `entity-train benchmark`: every argument is passed on unchanged.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: scripts/benchmark.sh SUBCOMMAND [OPTIONS]

Measures training speed (tokens/s) and peak memory of one setup on this machine.
Runs `entity-train benchmark` with the same arguments.

Examples:
  scripts/benchmark.sh train --shape tiny --steps 2 --json tiny.json
  scripts/benchmark.sh train --shape smollm2-135m --method lora --seq 512
USAGE
}
. "$(dirname "${BASH_SOURCE[0]}")/entity_train_command.sh"
run_entity_train benchmark "$@"
