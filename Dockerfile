# syntax=docker/dockerfile:1
# entity-train in a container: a JDK 25 builds the CLI with the Maven wrapper, then the jars run on a
# CUDA runtime image with only the JDK copied in. GPU access needs the NVIDIA Container Toolkit on
# the host (see docs/FAQ.md, "Docker and GPU passthrough"); without a GPU the same image runs on the CPU.
#
#   docker build -t entity-train .
#   docker run --rm --gpus all -v "$PWD/data:/data" -v "$PWD/runs:/runs" entity-train --help

# ---- build: the Maven wrapper, dependencies cached in a BuildKit cache mount ----
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -Djacoco.skip=true \
      package -pl entity-training -am

# ---- runtime: CUDA runtime libraries + the JDK 25 + the CLI jars ----
FROM nvidia/cuda:12.8.0-runtime-ubuntu24.04
ENV JAVA_HOME=/opt/java/openjdk \
    HF_HOME=/hf-cache \
    LANG=C.UTF-8
ENV PATH="${JAVA_HOME}/bin:${PATH}"
COPY --from=build /opt/java/openjdk /opt/java/openjdk
COPY --from=build /src/entity-training/target/dist/ /app/lib/
COPY --from=build /src/configs/ /app/configs/
COPY --from=build /src/data/ /app/data/
RUN printf '%s\n' \
      '#!/bin/sh' \
      '# The container entrypoint: the same JVM flags as ./entity-train; ENTITY_JAVA_OPTS adds more (e.g. -Xmx16g).' \
      'exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \' \
      '  -XX:+UseSerialGC -Xmn32m -Xms64m -Xmx4g ${ENTITY_JAVA_OPTS:-} \' \
      '  -cp "/app/lib/*" dev.entity.training.cli.Main "$@"' \
      > /usr/local/bin/entity-train \
 && chmod 755 /usr/local/bin/entity-train \
 && mkdir -p /data /models /runs /hf-cache
# Relative paths in configs (configs/..., data/sample.jsonl) resolve from /app.
WORKDIR /app
VOLUME ["/data", "/models", "/runs", "/hf-cache"]
ENTRYPOINT ["/usr/local/bin/entity-train"]
CMD ["--help"]
