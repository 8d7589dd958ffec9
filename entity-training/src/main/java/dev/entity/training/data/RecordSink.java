package dev.entity.training.data;

/**
 * Receives what a reader finds in a file, in file order: well-formed records, and records that
 * could not even be parsed (invalid JSON on one JSONL line). Either method returns false to stop
 * reading early.
 */
interface RecordSink {

  boolean record(SourceRecord record);

  boolean unparsable(RecordProblem problem);
}
