# Sourced by ./mvnw and ./entity-train: points JAVA_HOME at a JDK 25 or newer.
# Order: JAVA_HOME if it is 25+, then the usual install locations, then `java` on the PATH.
# POSIX sh on purpose, because mvnw is /bin/sh.

entity_jdk_major() {
  # Prints the feature version of the JDK at $1 (e.g. 25), or nothing when $1 is no JDK.
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\{0,1\}\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n 1
  else
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1
  fi
}

entity_find_jdk() {
  for candidate in "${JAVA_HOME-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/jdk-25* \
    /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
    /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$candidate" ] && [ -d "$candidate" ] || continue
    major=$(entity_jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  if command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(entity_jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  fi
  return 1
}

# mvnw runs under `set -f`; the search needs globbing, so turn it on for the search only.
case $- in *f*) entity_noglob=1; set +f ;; *) entity_noglob= ;; esac
if entity_jdk_home=$(entity_find_jdk); then
  JAVA_HOME=$entity_jdk_home
  export JAVA_HOME
else
  echo "entity-training needs a JDK 25 or newer, and none was found." >&2
  echo "Looked at JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm, /opt/java, ~/.sdkman, ~/.jdks and the PATH." >&2
  echo "Install one (for example Eclipse Temurin 25) and set JAVA_HOME to it." >&2
  exit 1
fi
[ -z "$entity_noglob" ] || set -f
