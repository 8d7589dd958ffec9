package dev.entity.training.data;

// DuckDB turns each row into JSON text (to_json of the row struct), so nested Parquet columns such
// as a list of {role, content} structs arrive in exactly the shape a JSONL record has. CSV columns
// are all read as text: a CSV cell has no type, and "42" is a fine answer.

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Reads Parquet and CSV files through an in-memory DuckDB ({@code read_parquet}, {@code
 * read_csv_auto}) and hands each row to the sink as a JSON object keyed by column name, numbered by
 * data row from 1.
 */
final class TableRecordReader {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  enum Kind {
    PARQUET,
    CSV
  }

  private TableRecordReader() {}

  static void read(Path file, String name, Kind kind, RecordSink sink) throws IOException {
    String literal = "'" + file.toAbsolutePath().toString().replace("'", "''") + "'";
    String source =
        switch (kind) {
          case PARQUET -> "read_parquet(" + literal + ")";
          case CSV -> "read_csv_auto(" + literal + ", all_varchar = true, header = true)";
        };
    String sql = "SELECT to_json(t) FROM " + source + " t";
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = db.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      long row = 0;
      while (rows.next()) {
        row++;
        String json = rows.getString(1);
        if (!sink.record(new SourceRecord(name, row, true, MAPPER.readTree(json)))) {
          return;
        }
      }
    } catch (SQLException e) {
      String message = e.getMessage() == null ? "" : e.getMessage();
      if (message.toLowerCase(java.util.Locale.ROOT).contains("unicode")) {
        throw new EntityException(
            name
                + ": not valid UTF-8 ("
                + firstLine(message)
                + "); dataset files must be UTF-8. Convert the file, e.g. iconv -f latin1 -t utf-8",
            e);
      }
      throw new EntityException(
          name
              + ": cannot read the file as "
              + (kind == Kind.PARQUET ? "Parquet" : "CSV")
              + ": "
              + firstLine(e.getMessage())
              + (kind == Kind.CSV ? "; a CSV file needs a header row naming the fields" : ""),
          e);
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown DuckDB error";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
