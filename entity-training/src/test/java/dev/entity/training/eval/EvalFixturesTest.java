// Convention: expected values come from scripts/reference/make_eval_fixtures.py (BLEU from
// sacrebleu itself, ROUGE from the script's reimplementation of rouge-score); the issue asks for 4
// decimals, the tests hold every value to 1e-9 and print the largest difference seen.
package dev.entity.training.eval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EvalFixturesTest {

  private static final double TOLERANCE = 1e-9;
  private static JsonNode fixtures;
  private static double maxBleuDiff;
  private static double maxRougeDiff;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in =
        EvalFixturesTest.class.getResourceAsStream("/fixtures/eval/eval_metrics.json")) {
      assertThat(in).as("fixture file").isNotNull();
      fixtures = new ObjectMapper().readTree(in);
    }
    assertThat(fixtures.get("pairs").size()).isGreaterThanOrEqualTo(40);
  }

  @AfterAll
  static void report() {
    System.out.printf(
        "eval fixtures: max |BLEU diff| = %.3e, max |ROUGE diff| = %.3e%n",
        maxBleuDiff, maxRougeDiff);
  }

  @Test
  void tokenizer13aMatchesSacrebleu() {
    for (JsonNode pair : fixtures.get("pairs")) {
      assertThat(Tokenizer13a.tokenize(pair.get("hypothesis").asText()))
          .as("13a of %s", pair.get("hypothesis"))
          .isEqualTo(pair.get("hypothesis_13a").asText());
      List<String> refs = present(pair.get("references"));
      for (int k = 0; k < refs.size(); k++) {
        assertThat(Tokenizer13a.tokenize(refs.get(k)))
            .as("13a of %s", refs.get(k))
            .isEqualTo(pair.get("references_13a").get(k).asText());
      }
    }
  }

  @Test
  void sentenceBleuMatchesSacrebleu() {
    for (JsonNode pair : fixtures.get("pairs")) {
      BleuScore got =
          Bleu.sentence(pair.get("hypothesis").asText(), present(pair.get("references")));
      assertBleu(got, pair.get("sentence_bleu"), "sentence BLEU of " + pair.get("hypothesis"));
    }
  }

  @Test
  void singlePairCorpusBleuMatchesSacrebleu() {
    for (JsonNode pair : fixtures.get("pairs")) {
      List<List<String>> streams = new ArrayList<>();
      for (JsonNode r : pair.get("references")) {
        List<String> stream = new ArrayList<>();
        stream.add(r.isNull() ? null : r.asText());
        streams.add(stream);
      }
      BleuScore got = Bleu.corpus(List.of(pair.get("hypothesis").asText()), streams);
      assertBleu(got, pair.get("corpus_bleu"), "corpus BLEU of " + pair.get("hypothesis"));
    }
  }

  @Test
  void corpusBleuMatchesSacrebleu() {
    for (JsonNode c : fixtures.get("corpora")) {
      BleuScore got = Bleu.corpus(texts(c.get("hypotheses")), streams(c));
      assertBleu(got, c.get("bleu"), "corpus " + c.get("name"));
    }
  }

  @Test
  void rougeMatchesReference() {
    for (JsonNode pair : fixtures.get("pairs")) {
      String hyp = pair.get("hypothesis").asText();
      List<String> refs = present(pair.get("references"));
      assertRouge(Rouge.score(refs.get(0), hyp), pair.get("rouge_first_reference"), hyp);
      assertRouge(Rouge.scoreMulti(refs, hyp), pair.get("rouge_best_reference"), hyp);
      assertRouge(
          Rouge.scoreMulti(refs, hyp, true),
          pair.get("rouge_best_reference_stemmed"),
          "stemmed " + hyp);
    }
  }

  @Test
  void corpusRougeMeansMatchReference() {
    for (JsonNode c : fixtures.get("corpora")) {
      RougeCorpusScore got = Rouge.corpus(texts(c.get("hypotheses")), streams(c));
      JsonNode want = c.get("rouge_mean_fmeasure");
      String what = "corpus " + c.get("name");
      close(got.rouge1(), want.get("rouge1").asDouble(), what + " rouge1", false);
      close(got.rouge2(), want.get("rouge2").asDouble(), what + " rouge2", false);
      close(got.rougeL(), want.get("rougeL").asDouble(), what + " rougeL", false);
      assertThat(got.pairs()).hasSize(c.get("hypotheses").size());
      RougeCorpusScore stemmed = Rouge.corpus(texts(c.get("hypotheses")), streams(c), true);
      JsonNode wantStemmed = c.get("rouge_mean_fmeasure_stemmed");
      close(
          stemmed.rouge1(), wantStemmed.get("rouge1").asDouble(), what + " stemmed rouge1", false);
      close(
          stemmed.rouge2(), wantStemmed.get("rouge2").asDouble(), what + " stemmed rouge2", false);
      close(
          stemmed.rougeL(), wantStemmed.get("rougeL").asDouble(), what + " stemmed rougeL", false);
    }
  }

  @Test
  void porterStemmerMatchesNltk() throws IOException {
    int words = 0;
    List<String> wrong = new ArrayList<>();
    try (InputStream in =
        EvalFixturesTest.class.getResourceAsStream("/fixtures/eval/porter_stems.tsv")) {
      assertThat(in).as("stem fixture").isNotNull();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String[] wordAndStem = line.split("\t");
        words++;
        String got = PorterStemmer.stem(wordAndStem[0]);
        if (!got.equals(wordAndStem[1])) {
          wrong.add(wordAndStem[0] + " -> " + got + " (nltk: " + wordAndStem[1] + ")");
        }
      }
    }
    System.out.printf("porter stems: %d words, %d differ from nltk%n", words, wrong.size());
    assertThat(words).isGreaterThan(5000);
    assertThat(wrong).isEmpty();
  }

  private static void assertBleu(BleuScore got, JsonNode want, String what) {
    close(got.score(), want.get("score").asDouble(), what + " score", true);
    close(got.bp(), want.get("bp").asDouble(), what + " bp", true);
    assertThat(got.sysLen()).as(what + " sys_len").isEqualTo(want.get("sys_len").asLong());
    assertThat(got.refLen()).as(what + " ref_len").isEqualTo(want.get("ref_len").asLong());
    for (int n = 0; n < Bleu.MAX_ORDER; n++) {
      assertThat(got.counts().get(n))
          .as(what + " counts")
          .isEqualTo(want.get("counts").get(n).asLong());
      assertThat(got.totals().get(n))
          .as(what + " totals")
          .isEqualTo(want.get("totals").get(n).asLong());
      close(
          got.precisions().get(n),
          want.get("precisions").get(n).asDouble(),
          what + " precision",
          true);
    }
  }

  private static void assertRouge(RougeScores got, JsonNode want, String what) {
    assertRouge(got.rouge1(), want.get("rouge1"), what + " rouge1");
    assertRouge(got.rouge2(), want.get("rouge2"), what + " rouge2");
    assertRouge(got.rougeL(), want.get("rougeL"), what + " rougeL");
  }

  private static void assertRouge(RougeScore got, JsonNode want, String what) {
    close(got.precision(), want.get("precision").asDouble(), what + " precision", false);
    close(got.recall(), want.get("recall").asDouble(), what + " recall", false);
    close(got.fmeasure(), want.get("fmeasure").asDouble(), what + " fmeasure", false);
  }

  private static void close(double got, double want, String what, boolean bleu) {
    double diff = Math.abs(got - want);
    if (bleu) {
      maxBleuDiff = Math.max(maxBleuDiff, diff);
    } else {
      maxRougeDiff = Math.max(maxRougeDiff, diff);
    }
    assertThat(diff).as("%s: got %s, want %s", what, got, want).isLessThanOrEqualTo(TOLERANCE);
  }

  private static List<String> present(JsonNode refs) {
    List<String> out = new ArrayList<>();
    for (JsonNode r : refs) {
      if (!r.isNull()) {
        out.add(r.asText());
      }
    }
    return out;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode t : array) {
      out.add(t.isNull() ? null : t.asText());
    }
    return out;
  }

  private static List<List<String>> streams(JsonNode corpus) {
    List<List<String>> out = new ArrayList<>();
    for (JsonNode stream : corpus.get("reference_streams")) {
      out.add(texts(stream));
    }
    return out;
  }
}
