# Sourced by the thin scripts in scripts/: runs one entity-train command from the repository's own
# launcher. ENTITY_TRAIN replaces the launcher (tests point it at an already built CLI).
# Convention: a script's --help (or no arguments) prints its own usage, then the command's help,
# and exits 0 even when this build does not have the command yet (it says so).

entity_train_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
entity_train=${ENTITY_TRAIN:-$entity_train_root/entity-train}

# run_entity_train COMMAND ARGS...: usage and help for no args/-h/--help, else runs the command.
run_entity_train() {
  local command=$1
  shift
  if [ $# -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    usage
    echo
    echo "--- entity-train $command --help"
    # shellcheck disable=SC2086  # ENTITY_TRAIN may be a command with arguments
    if ! $entity_train help $command; then
      echo "(this build of entity-train has no '$command' command yet; update the repository)"
    fi
    exit 0
  fi
  # shellcheck disable=SC2086
  exec $entity_train $command "$@"
}
