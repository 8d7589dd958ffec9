package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableFilesTest {

  @TempDir Path dir;

  /** Runs {@code COPY (query) TO file (options)} in a throwaway DuckDB. */
  private Path copy(String query, String file, String options) throws Exception {
    Path target = dir.resolve(file);
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = db.createStatement()) {
      s.execute("COPY (" + query + ") TO '" + target + "' (" + options + ")");
    }
    return target;
  }

  private static LoadedDataset load(Path file) {
    return DatasetLoader.load(DatasetOptions.of(file).withShuffle(false).withValidationSplit(0));
  }

  @Test
  void parquetAlpacaRowsLoad() throws Exception {
    Path f =
        copy(
            "SELECT * FROM (VALUES ('q1', NULL, 'a1'), ('q2', 'ctx', 'a2')) t(instruction, input, output)",
            "a.parquet",
            "FORMAT parquet");
    LoadedDataset d = load(f);
    assertThat(d.files().getFirst().format()).isEqualTo(DatasetFormat.ALPACA);
    assertThat(d.train())
        .extracting(c -> c.messages().getFirst().content())
        .containsExactly("q1", "q2\n\nctx");
    assertThat(d.train().get(1).line()).isEqualTo(2);
  }

  @Test
  void parquetNestedMessagesLoadAsOpenai() throws Exception {
    Path f =
        copy(
            "SELECT [{'role': 'system', 'content': 'S'}, {'role': 'user', 'content': 'hi'},"
                + " {'role': 'assistant', 'content': 'hello'}] AS messages",
            "m.parquet",
            "FORMAT parquet");
    LoadedDataset d = load(f);
    assertThat(d.files().getFirst().format()).isEqualTo(DatasetFormat.OPENAI);
    assertThat(d.train().getFirst().messages())
        .containsExactly(Message.system("S"), Message.user("hi"), Message.assistant("hello"));
  }

  @Test
  void parquetBadRowsAreNamedByRowAndField() throws Exception {
    Path missing =
        copy(
            "SELECT 'p' || i AS prompt, CASE WHEN i = 3 THEN NULL ELSE 'c' END AS completion"
                + " FROM range(1, 5) r(i) ORDER BY i",
            "missing.parquet",
            "FORMAT parquet");
    assertThatThrownBy(() -> load(missing))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining(missing + " row 3: completion: missing");
    Path number = copy("SELECT 'p' AS prompt, 7 AS completion", "number.parquet", "FORMAT parquet");
    assertThatThrownBy(() -> load(number))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining(number + " row 1: completion: must be a string, found a number (7)");
  }

  @Test
  void csvCellsAreTextAndQuotedNewlinesSurvive() throws Exception {
    Path f =
        copy(
            "SELECT * FROM (VALUES ('What is 6*7?', '', '42'), ('Say \"hi\", twice', NULL, 'hi\nhi'))"
                + " t(instruction, input, output)",
            "a.csv",
            "HEADER, DELIMITER ','");
    LoadedDataset d = load(f);
    assertThat(d.files().getFirst().format()).isEqualTo(DatasetFormat.ALPACA);
    assertThat(d.train().get(0).messages().get(1).content()).isEqualTo("42");
    assertThat(d.train().get(1).messages())
        .containsExactly(Message.user("Say \"hi\", twice"), Message.assistant("hi\nhi"));
  }

  @Test
  void csvBadRowNamesTheRow() throws Exception {
    Path f = DatasetFiles.text(dir, "b.csv", "prompt,completion\np1,c1\np2,\n");
    assertThatThrownBy(() -> load(f))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining(f + " row 2: completion: missing");
  }

  @Test
  void csvInLatin1AndEmptyCsvAreClearErrors() {
    Path latin =
        DatasetFiles.bytes(
            dir,
            "l.csv",
            "prompt,completion\ncaf\u00e9,x\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> load(latin))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith(latin + ": not valid UTF-8 (")
        .hasMessageContaining("Line: 2");
    Path header = DatasetFiles.text(dir, "h.csv", "prompt,completion\n");
    assertThatThrownBy(() -> load(header))
        .hasMessageStartingWith(header + ": the file has no records");
  }

  @Test
  void corruptParquetIsAClearError() {
    Path f = DatasetFiles.bytes(dir, "c.parquet", "PAR1 this is not parquet".getBytes());
    assertThatThrownBy(() -> load(f))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith(f + ": cannot read the file as Parquet: ");
  }
}
