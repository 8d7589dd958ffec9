#!/usr/bin/env bash
# Runs entity-train in Docker: builds the image when it is missing (or with --build), mounts ./data,
# ./models, ./runs and the Hugging Face cache, adds --gpus all when the host has nvidia-smi, and
# passes every other argument to entity-train. Paths inside the container: /data, /models, /runs.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: scripts/run_docker.sh [--build] [ENTITY-TRAIN ARGS...]

Environment: ENTITY_IMAGE (default entity-train:latest), ENTITY_DATA_DIR, ENTITY_MODELS_DIR,
ENTITY_RUNS_DIR, ENTITY_HF_CACHE (host folders, default ./data ./models ./runs ./hf-cache),
HF_TOKEN (passed through), ENTITY_JAVA_OPTS.

Examples:
  scripts/run_docker.sh --build --help
  scripts/run_docker.sh estimate-memory --shape llama-3-8b --method qlora --device cuda
  scripts/run_docker.sh train --config configs/cpu_lora.yaml --model /models/smollm2-135m \
      --dataset /data/my-data.jsonl --output /runs/my-run

Adds --gpus all when nvidia-smi works. GPU passthrough needs the NVIDIA driver and the
NVIDIA Container Toolkit on the host
(docs/FAQ.md, "Docker and GPU passthrough").
USAGE
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=${ENTITY_IMAGE:-entity-train:latest}
build=false
if [ "${1:-}" = "--build" ]; then
  build=true
  shift
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--script-help" ]; then
  usage
  exit 0
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "run_docker.sh: docker is not installed; see docs/FAQ.md (Docker)" >&2
  exit 1
fi
if $build || ! docker image inspect "$image" >/dev/null 2>&1; then
  docker build -t "$image" "$root"
fi
mounts=()
for pair in "${ENTITY_DATA_DIR:-$root/data}:/data" "${ENTITY_MODELS_DIR:-$root/models}:/models" \
  "${ENTITY_RUNS_DIR:-$root/runs}:/runs" "${ENTITY_HF_CACHE:-$root/hf-cache}:/hf-cache"; do
  mkdir -p "${pair%:*}"
  mounts+=(-v "$(cd "${pair%:*}" && pwd):${pair##*:}")
done
gpus=()
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  gpus=(--gpus all)
fi
tty=()
if [ -t 0 ] && [ -t 1 ]; then
  tty=(-it)
fi
exec docker run --rm "${tty[@]}" "${gpus[@]}" "${mounts[@]}" \
  -e HF_TOKEN="${HF_TOKEN:-}" -e HF_HOME=/hf-cache -e ENTITY_JAVA_OPTS="${ENTITY_JAVA_OPTS:-}" \
  "$image" "$@"
