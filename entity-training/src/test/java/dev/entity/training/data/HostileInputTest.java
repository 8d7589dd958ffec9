package dev.entity.training.data;

import static dev.entity.training.data.DatasetFiles.bytes;
import static dev.entity.training.data.DatasetFiles.lines;
import static dev.entity.training.data.DatasetFiles.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncated, mis-encoded, oversized and wrongly typed dataset files: each gets a clear error. */
class HostileInputTest {

  @TempDir Path dir;

  private static LoadedDataset load(Path file) {
    return DatasetLoader.load(DatasetOptions.of(file).withShuffle(false).withValidationSplit(0));
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> failure(Path file) {
    return assertThatThrownBy(() -> load(file)).isInstanceOf(EntityException.class);
  }

  private static final String GOOD = "{\"instruction\":\"q\",\"output\":\"a\"}";

  @Test
  void truncatedJsonlLastLineIsNamedWithLineAndColumn() {
    Path f = text(dir, "t.jsonl", GOOD + "\n{\"instruction\":\"q2\",\"outp");
    failure(f)
        .hasMessageContaining(f + ":2:26: invalid JSON: Unexpected end-of-input")
        .hasMessageStartingWith("1 bad record in the dataset:")
        .hasMessageContaining(f + ":2:")
        .hasMessageContaining("invalid JSON");
  }

  @Test
  void truncatedJsonArraySaysItIsTruncated() {
    Path cut = text(dir, "cut.json", "[\n" + GOOD + ",\n{\"instruction\":\"q\",");
    failure(cut).hasMessageStartingWith(cut + ":3:").hasMessageContaining("invalid JSON");
    Path open = text(dir, "open.json", "[\n" + GOOD + ",\n" + GOOD + "\n");
    failure(open)
        .hasMessageStartingWith(open + ":4:1: invalid JSON: ")
        .hasMessageContaining("expected close marker for Array (opened at line 1, column 1)")
        .hasMessageNotContaining("REDACTED");
    Path trailing = text(dir, "trail.json", "[" + GOOD + "]\n{}");
    failure(trailing)
        .hasMessageStartingWith(trailing + ":2:1: unexpected content after the closing ']'");
  }

  @Test
  void latin1BytesAreNamedByLine() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes((GOOD + "\n").getBytes(StandardCharsets.UTF_8));
    out.writeBytes(
        "{\"instruction\":\"caf\u00e9\",\"output\":\"a\"}\n".getBytes(StandardCharsets.ISO_8859_1));
    Path f = bytes(dir, "latin1.jsonl", out.toByteArray());
    failure(f)
        .hasMessageStartingWith(f + ":2: not valid UTF-8 (byte 0xE9 at byte 20 of the line)")
        .hasMessageContaining("iconv");
    Path array =
        bytes(
            dir,
            "latin1.json",
            ("[\n"
                    + GOOD
                    + ",\n"
                    + new String(out.toByteArray(), StandardCharsets.ISO_8859_1).split("\n")[1]
                    + "\n]")
                .getBytes(StandardCharsets.ISO_8859_1));
    failure(array).hasMessageStartingWith(array + ":3: not valid UTF-8");
  }

  @Test
  void utf16WithBomIsRefused() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFE});
    out.writeBytes((GOOD + "\n").getBytes(StandardCharsets.UTF_16LE));
    Path f = bytes(dir, "utf16.jsonl", out.toByteArray());
    failure(f)
        .hasMessageStartingWith(
            f
                + ":1: the file is UTF-16 or UTF-32 encoded (it starts with a UTF-16 byte-order mark)");
    Path be = bytes(dir, "utf16.json", ("[" + GOOD + "]").getBytes(StandardCharsets.UTF_16));
    failure(be).hasMessageContaining("UTF-16 byte-order mark");
    Path noBom = bytes(dir, "utf16le.jsonl", (GOOD + "\n").getBytes(StandardCharsets.UTF_16LE));
    failure(noBom).hasMessageContaining("it contains zero bytes");
  }

  @Test
  void utf8BomAndBlankLinesAndCrlfAreFine() {
    Path f =
        bytes(
            dir,
            "bom.jsonl",
            ("\uFEFF" + GOOD + "\r\n\r\n   \n" + GOOD.replace("\"q\"", "\"é😀\"") + "\r\n\n")
                .getBytes(StandardCharsets.UTF_8));
    LoadedDataset d = load(f);
    assertThat(d.size()).isEqualTo(2);
    assertThat(d.train().get(1).line()).isEqualTo(4);
    assertThat(d.train().get(1).messages().getFirst().content()).isEqualTo("é😀");
    Path array = bytes(dir, "bom.json", ("\uFEFF [" + GOOD + "]").getBytes(StandardCharsets.UTF_8));
    assertThat(load(array).size()).isEqualTo(1);
  }

  @Test
  void hugeLineIsRefusedBeforeItIsHeld() throws Exception {
    Path f = dir.resolve("huge.jsonl");
    try (var out = Files.newOutputStream(f)) {
      out.write("{\"text\":\"short\"}\n".getBytes(StandardCharsets.UTF_8));
      out.write("{\"text\":\"".getBytes(StandardCharsets.UTF_8));
      byte[] block = "x".repeat(4096).getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < 64; i++) {
        out.write(block);
      }
      out.write("\"}\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThatThrownBy(() -> DatasetLoader.load(DatasetOptions.of(f).withMaxLineBytes(64 * 1024)))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith(
            f + ":2: line is longer than 64 KiB; one record per line is expected");
    assertThat(DatasetLoader.load(DatasetOptions.of(f).withMaxLineBytes(1 << 20)).size())
        .isEqualTo(2);
    assertThat(DatasetOptions.of(f).maxLineBytes()).isEqualTo(64L << 20);
  }

  @Test
  void wrongTypesNameTheField() {
    Path f =
        lines(
            dir,
            "types.jsonl",
            "{\"instruction\":42,\"output\":\"a\"}",
            "{\"instruction\":\"q\",\"output\":[\"a\"],\"input\":true}",
            "{\"messages\":{\"role\":\"user\"}}",
            "{\"messages\":[\"hi\",{\"role\":\"user\",\"content\":5}]}",
            "{\"conversations\":[{\"from\":\"human\",\"value\":null}]}");
    load(lines(dir, "ok.jsonl", GOOD));
    assertThatThrownBy(
            () -> DatasetLoader.load(DatasetOptions.of(f).withFormat(DatasetFormat.AUTO)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("mixed formats");
    failure(
            lines(
                dir,
                "t1.jsonl",
                "{\"instruction\":42,\"output\":\"a\"}",
                "{\"instruction\":\"q\",\"output\":[\"a\"],\"input\":true}"))
        .hasMessageStartingWith("2 bad records in the dataset:")
        .hasMessageContaining("t1.jsonl:1: instruction: must be a string, found a number (42)")
        .hasMessageContaining("t1.jsonl:2: input: must be a string, found a boolean (true)")
        .hasMessageContaining("t1.jsonl:2: output: must be a string, found a list");
    failure(
            lines(
                dir,
                "t2.jsonl",
                "{\"messages\":{\"role\":\"user\"}}",
                "{\"messages\":[\"hi\",{\"role\":\"user\",\"content\":5}]}"))
        .hasMessageContaining(
            "t2.jsonl:1: messages: must be a list of {role, content} objects, found an object")
        .hasMessageContaining(
            "t2.jsonl:2: messages[0]: must be an object {role, content}, found a string")
        .hasMessageContaining(
            "t2.jsonl:2: messages[1].content: must be a string, found a number (5)");
    failure(lines(dir, "t3.jsonl", "{\"conversations\":[{\"from\":\"human\",\"value\":null}]}"))
        .hasMessageContaining("t3.jsonl:1: conversations[0].value: missing");
  }

  @Test
  void emptyFilesAndEmptyStrings() {
    Path empty = text(dir, "empty.jsonl", "");
    failure(empty)
        .hasMessage(empty + ": the file has no records (it is empty or holds only blank lines)");
    Path blank = text(dir, "blank.jsonl", "\n  \n\r\n");
    failure(blank).hasMessageStartingWith(blank + ": the file has no records");
    Path emptyArray = text(dir, "empty.json", "[ ]");
    failure(emptyArray).hasMessageStartingWith(emptyArray + ": the file has no records");
    Path strings =
        lines(
            dir,
            "s.jsonl",
            "{\"instruction\":\"  \",\"output\":\"a\"}",
            "{\"instruction\":\"q\",\"output\":\"\"}");
    failure(strings)
        .hasMessageContaining(strings + ":1: instruction: is empty")
        .hasMessageContaining(strings + ":2: output: is empty");
    Path noTurns = lines(dir, "n.jsonl", "{\"messages\":[]}");
    failure(noTurns).hasMessageContaining(noTurns + ":1: messages: is empty");
  }

  @Test
  void badRolesAreNamedWithTheAcceptedOnes() {
    Path f =
        lines(
            dir,
            "roles.jsonl",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"tool\",\"content\":\"t\"}]}",
            "{\"messages\":[{\"role\":\"human\",\"content\":\"u\"},{\"role\":\"assistant\",\"content\":\"a\"}]}");
    failure(f)
        .hasMessageContaining(
            f + ":1: messages[1].role: unknown role 'tool'; use system, user or assistant")
        .hasMessageContaining(f + ":2: messages[0].role: unknown role 'human'");
    Path s = lines(dir, "s.jsonl", "{\"conversations\":[{\"from\":\"bot\",\"value\":\"x\"}]}");
    failure(s)
        .hasMessageContaining(
            s
                + ":1: conversations[0].from: unknown role 'bot'; use human/user, gpt/assistant/model or system");
  }

  @Test
  void badTurnOrderIsNamed() {
    String u = "{\"role\":\"user\",\"content\":\"u\"}";
    String a = "{\"role\":\"assistant\",\"content\":\"a\"}";
    String s = "{\"role\":\"system\",\"content\":\"s\"}";
    Path f =
        lines(
            dir,
            "order.jsonl",
            "{\"messages\":[" + u + "," + u + "," + a + "]}",
            "{\"messages\":[" + u + "," + a + "," + s + "]}",
            "{\"messages\":[" + u + "]}",
            "{\"messages\":[" + s + "]}",
            "{\"messages\":[" + a + "," + u + "," + a + "]}",
            "{\"messages\":[" + s + "," + u + "," + a + "," + u + "," + a + "]}",
            "{\"messages\":[" + a + "]}");
    failure(f)
        .hasMessageStartingWith("5 bad records in the dataset:")
        .hasMessageContaining(
            f + ":1: messages[1].role: turn order: expected assistant but found user")
        .hasMessageContaining(f + ":2: messages[2].role: a system message may only come first")
        .hasMessageContaining(
            f + ":3: messages[0].role: the conversation must end with an assistant turn")
        .hasMessageContaining(f + ":4: messages[0].role: has no user or assistant turn")
        .hasMessageContaining(
            f + ":5: messages[0].role: turn order: expected user but found assistant")
        .hasMessageNotContaining(f + ":6:")
        .hasMessageNotContaining(f + ":7:");
  }

  @Test
  void prettyPrintedJsonInAJsonlFileGetsAHint() {
    Path f = text(dir, "pretty.json", "{\n  \"text\": \"a\"\n}\n");
    failure(f)
        .hasMessageStartingWith("3 bad records in the dataset:")
        .hasMessageContaining(f + ":1:2: invalid JSON: Unexpected end-of-input")
        .hasMessageContaining("wrap the records in a JSON array");
  }

  @Test
  void nonObjectLinesAreBadRecords() {
    Path f =
        lines(
            dir,
            "n.jsonl",
            GOOD,
            "[1, 2]",
            "\"just a string\"",
            "null",
            "{\"a\":1} {\"b\":2}",
            "{\"text\":\"x\",\"text\":\"y\"}");
    failure(f)
        .hasMessageStartingWith("5 bad records in the dataset:")
        .hasMessageContaining(f + ":2: record must be a JSON object, found a list")
        .hasMessageContaining(f + ":3: record must be a JSON object, found a string")
        .hasMessageContaining(f + ":4: record must be a JSON object, found null")
        .hasMessageContaining(f + ":5:9: more than one JSON value on this line")
        .hasMessageContaining(f + ":6:")
        .hasMessageContaining("Duplicate field 'text'");
    Path notArray = text(dir, "obj.json", "[1]");
    failure(notArray)
        .hasMessageContaining(notArray + ":1: record must be a JSON object, found a number (1)");
  }

  @Test
  void manyBadRecordsListTheFirstTenAndCountAll() {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 25; i++) {
      s.append("{\"text\":\"\"}\n");
    }
    Path f = text(dir, "many.jsonl", s.toString());
    failure(f)
        .hasMessageStartingWith("25 bad records in the dataset (first 10 of 25 problems):")
        .hasMessageContaining(f + ":10: text: is empty")
        .satisfies(
            e ->
                assertThat(e.getMessage().lines().filter(l -> l.startsWith("  ")).count())
                    .isEqualTo(10))
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(f + ":11:"));
  }

  @Test
  void missingFilesDirectoriesAndUnknownTypes() throws Exception {
    Path missing = dir.resolve("nope.jsonl");
    failure(missing).hasMessageStartingWith("dataset_path: file not found: " + missing);
    failure(dir).hasMessageStartingWith("dataset_path: " + dir + " is a directory");
    Path txt = text(dir, "d.txt", GOOD);
    failure(txt).hasMessageContaining(txt + ": unsupported file type; use .jsonl, .json");
    Path other = lines(dir, "ok.jsonl", GOOD);
    assertThatThrownBy(() -> DatasetLoader.load(DatasetOptions.of(other, missing)))
        .hasMessageContaining("file not found: " + missing);
  }

  @Test
  void binaryGarbageIsAnEncodingOrJsonError() {
    byte[] garbage = new byte[512];
    new java.util.Random(1).nextBytes(garbage);
    garbage[0] = 'x';
    garbage[1] = 'y';
    Path f = bytes(dir, "garbage.jsonl", garbage);
    failure(f).hasMessageContaining(f + ":");
  }

  @Test
  void deepNestingIsReportedNotACrash() {
    Path f = text(dir, "deep.jsonl", "{\"text\":" + "[".repeat(5000) + "\n");
    failure(f).hasMessageContaining(f + ":1:").hasMessageContaining("invalid JSON");
  }
}
