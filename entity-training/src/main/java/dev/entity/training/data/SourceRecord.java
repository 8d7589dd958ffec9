package dev.entity.training.data;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One raw record as read from a file, before it is checked and converted: its JSON value, the file
 * and the position. JSON and JSONL files count lines (1-based, the line the record starts on);
 * Parquet and CSV files count data rows (1-based, the CSV header is not a row).
 */
record SourceRecord(String file, long position, boolean isRow, JsonNode value) {

  /** "data.jsonl:12" for lines, "data.parquet row 12" for rows. */
  String location() {
    return location(file, position, isRow);
  }

  static String location(String file, long position, boolean isRow) {
    return isRow ? file + " row " + position : file + ":" + position;
  }
}
