package dev.entity.training.data;

/**
 * What was read from one dataset file: its path as given, the record format found (or forced), the
 * valid records taken from it and the bad records skipped.
 */
public record DatasetFile(String path, DatasetFormat format, long records, long skipped) {}
