// Convention: RFC 4180 — CRLF line ends, a field with a comma, quote, CR or LF is quoted with its
// quotes doubled; an empty cell means "not measured at that step". The columns are kind, step,
// max_steps, epoch, time, then every metric name in the order first seen.
package dev.entity.training.train.metrics;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.entity.core.resource.Storage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes every record as one CSV row (usually {@code <run>/metrics.csv}), flushed at once. The
 * header comes from the first record's fields. When a later record brings a metric the header lacks
 * (the first evaluation brings {@code eval_loss}), the file is rewritten atomically with the column
 * added at the end and the earlier rows left empty in it — so the file always has one header that
 * names every column, and a spreadsheet or {@code pandas.read_csv} reads it whole. The rows are
 * kept in memory for that rewrite (a few hundred bytes per logged step). A resumed run (start step
 * above 0) keeps the rows up to its start step and drops the rest.
 */
public final class CsvMetricsSink implements MetricsSink {

  /** The columns every file starts with. */
  public static final List<String> FIXED_COLUMNS =
      List.of("kind", "step", "max_steps", "epoch", "time");

  private static final String CRLF = "\r\n";

  private final Path file;
  private final List<String> columns = new ArrayList<>(FIXED_COLUMNS);
  private final List<Map<String, String>> rows = new ArrayList<>();
  private BufferedWriter out;

  public CsvMetricsSink(Path file) {
    this.file = file;
  }

  /** The file written. */
  public Path file() {
    return file;
  }

  /** The current header. */
  public List<String> columns() {
    return List.copyOf(columns);
  }

  @Override
  public void begin(RunStart start) {
    if (out != null) {
      return;
    }
    if (start.startStep() > 0 && Files.exists(file)) {
      try {
        List<Map<String, String>> old = read(file);
        for (Map<String, String> row : old) {
          row.keySet().stream().filter(c -> !columns.contains(c)).forEach(columns::add);
          if (step(row) >= 0 && step(row) <= start.startStep()) {
            rows.add(row);
          }
        }
      } catch (IOException | RuntimeException e) {
        rows.clear(); // unreadable: start afresh rather than append to garbage
      }
    }
    rewrite();
  }

  @Override
  public void log(MetricRecord record) {
    Map<String, String> row = toRow(record);
    rows.add(row);
    boolean widened = false;
    for (String name : row.keySet()) {
      if (!columns.contains(name)) {
        columns.add(name);
        widened = true;
      }
    }
    if (out == null || widened) {
      rewrite();
      return;
    }
    try {
      out.write(line(row));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write metrics to " + file, e);
    }
  }

  private static Map<String, String> toRow(MetricRecord record) {
    Map<String, String> row = new LinkedHashMap<>();
    row.put("kind", record.kind().name().toLowerCase(Locale.ROOT));
    row.put("step", Long.toString(record.step()));
    row.put("max_steps", Long.toString(record.maxSteps()));
    row.put("epoch", Double.toString(record.epoch()));
    row.put("time", record.time().toString());
    record.values().forEach((name, value) -> row.put(name, Double.toString(value)));
    return row;
  }

  private static long step(Map<String, String> row) {
    try {
      return Long.parseLong(row.getOrDefault("step", ""));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private String line(Map<String, String> row) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < columns.size(); i++) {
      if (i > 0) {
        s.append(',');
      }
      s.append(quote(row.getOrDefault(columns.get(i), "")));
    }
    return s.append(CRLF).toString();
  }

  /** The field as RFC 4180 writes it: quoted, quotes doubled, when it holds , " CR or LF. */
  public static String quote(String field) {
    if (field.indexOf(',') < 0
        && field.indexOf('"') < 0
        && field.indexOf('\r') < 0
        && field.indexOf('\n') < 0) {
      return field;
    }
    return '"' + field.replace("\"", "\"\"") + '"';
  }

  /** Writes header and all rows to a temporary file, renames it over the file, and reopens it. */
  private void rewrite() {
    close();
    Map<String, String> header = new LinkedHashMap<>();
    columns.forEach(c -> header.put(c, c));
    StringBuilder text = new StringBuilder(line(header));
    rows.forEach(row -> text.append(line(row)));
    Storage.writeAtomically(file, stream -> stream.write(text.toString().getBytes(UTF_8)));
    try {
      out = Files.newBufferedWriter(file, UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the metrics file " + file, e);
    }
  }

  /**
   * Reads an RFC 4180 file with a header into one column-to-field map per row (CRLF or LF line
   * ends). A last row cut short — an open quote, or fewer fields than the header — is dropped, as a
   * killed run may leave it.
   */
  public static List<Map<String, String>> read(Path file) throws IOException {
    List<List<String>> records = parse(Files.readString(file, UTF_8));
    List<Map<String, String>> rows = new ArrayList<>();
    if (records.isEmpty()) {
      return rows;
    }
    List<String> header = records.getFirst();
    for (List<String> record : records.subList(1, records.size())) {
      if (record.size() != header.size()) {
        continue;
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < header.size(); i++) {
        if (!record.get(i).isEmpty()) {
          row.put(header.get(i), record.get(i));
        }
      }
      rows.add(row);
    }
    return rows;
  }

  /** The records of CSV text; a record left inside an open quote at the end is dropped. */
  static List<List<String>> parse(String text) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean any = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
        continue;
      }
      switch (c) {
        case '"' -> {
          quoted = true;
          any = true;
        }
        case ',' -> {
          record.add(field.toString());
          field.setLength(0);
          any = true;
        }
        case '\r' -> {}
        case '\n' -> {
          record.add(field.toString());
          records.add(record);
          record = new ArrayList<>();
          field.setLength(0);
          any = false;
        }
        default -> {
          field.append(c);
          any = true;
        }
      }
    }
    if (any && !quoted) {
      record.add(field.toString());
      records.add(record);
    }
    return records;
  }

  @Override
  public void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // close() never throws; every row was flushed when written
      }
      out = null;
    }
  }
}
