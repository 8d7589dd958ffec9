/**
 * The resources a run shares with its plugins: {@link dev.entity.core.resource.Memory} (DuckDB:
 * key/value JSON store plus runs, metrics, checkpoints and evaluations tables), {@link
 * dev.entity.core.resource.EventLog} (SLF4J plus JSON lines) and {@link
 * dev.entity.core.resource.Storage} (the run folder, atomic writes).
 */
package dev.entity.core.resource;
