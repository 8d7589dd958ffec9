package dev.entity.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hostile and malformed tokenizer files get an EngineException naming the file and field. */
class TokenizerLoaderTest {

  @TempDir Path dir;

  static final String MINIMAL_MODEL =
      "\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"byte_fallback\": true,"
          + " \"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3}, \"merges\": [\"a b\"]}";

  Path write(String tokenizerJson) throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
    return dir;
  }

  void refused(String tokenizerJson, String... fragments) throws IOException {
    Path folder = write(tokenizerJson);
    var assertion =
        assertThatThrownBy(() -> Tokenizer.load(folder)).isInstanceOf(EngineException.class);
    assertion.hasMessageContaining("tokenizer.json");
    for (String f : fragments) {
      assertion.hasMessageContaining(f);
    }
  }

  @Test
  void minimalTokenizerLoads() throws IOException {
    Tokenizer t = Tokenizer.load(write("{" + MINIMAL_MODEL + "}"));
    assertThat(t.encode("abba", false)).containsExactly(3, 2, 1);
    assertThat(t.kind()).isEqualTo(TokenizerKind.SENTENCEPIECE_BPE);
    assertThat(t.encode("ac", false)).containsExactly(1, 0); // no <0x63> token: unknown
  }

  @Test
  void missingFolderOrFile() {
    assertThatThrownBy(() -> Tokenizer.load(dir.resolve("nope")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.json not found")
        .hasMessageContaining("tokenizer.model alone is not supported");
  }

  @Test
  void truncatedAndInvalidJson() throws IOException {
    Path fixture = TokenizerFixtureTest.fixture("gpt2").resolve("tokenizer.json");
    String full = Files.readString(fixture);
    refused(full.substring(0, full.length() / 2), "invalid JSON at line");
    refused("", "the file is empty");
    refused("[1, 2]", "top level must be a JSON object");
    refused(
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1, \"a\": 2}, \"merges\": []}}",
        "Duplicate field 'a'");
    refused("{}", "required field 'model' is missing");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}|model.type|'WordPiece' is not supported",
        "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}|model.type|supported: BPE",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": [1]}}|model.vocab|must be an object",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}|model.vocab['a']|non-negative integer",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}}|model.vocab['a']|non-negative integer",
        "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {\"a\": 0, \"b\": 0}}}|model.vocab|is used by both",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a c\"]}}|model.merges[0]|'c' is not in model.vocab",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}|model.merges[0]|merged token 'ab'",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a a a\"]}}|model.merges[0]|two tokens separated by one space",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[1, 2]]}}|model.merges[0]|must be",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": {}}}|model.merges|must be a list",
        "{\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": {\"a\": 0}}}|model.unk_token|not in model.vocab",
        "{\"model\": {\"type\": \"BPE\", \"dropout\": 0.1, \"vocab\": {\"a\": 0}}}|model.dropout|random",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}|neither byte-level|SentencePiece-style",
      })
  void malformedModels(String json, String field, String what) throws IOException {
    refused(json, field, what);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "\"pre_tokenizer\": {\"type\": \"Whitespace\"}|pre_tokenizer.type|'Whitespace' is not supported",
        "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"BertPreTokenizer\"}]}|pre_tokenizer.pretokenizers[0].type|not supported",
        "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"([a-z\"}, \"behavior\": \"Isolated\"}|regex '([a-z'|not a valid pattern",
        "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"[[:alpha:]]+\"}}|regex|no exact Java equivalent",
        "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Sideways\"}|pre_tokenizer.behavior|'Sideways' is not one of",
        "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": \"a\"}|pre_tokenizer.pattern|must be",
        "\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"ab\"}|pre_tokenizer.replacement|single character",
        "\"pre_tokenizer\": {\"type\": \"Metaspace\", \"prepend_scheme\": \"sometimes\"}|pre_tokenizer.prepend_scheme|always, first or never",
        "\"pre_tokenizer\": {\"nottype\": 1}|pre_tokenizer.type|missing",
        "\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"\"}|normalizer.type|'Precompiled' is not supported",
        "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": 3}|normalizer.normalizers|must be a list",
        "\"normalizer\": {\"type\": \"Prepend\"}|normalizer.prepend|required string",
        "\"decoder\": {\"type\": \"WordPiece\"}|decoder.type|'WordPiece' is not supported",
        "\"decoder\": {\"type\": \"Strip\", \"content\": \" \", \"start\": \"x\", \"stop\": 0}|decoder.start|must be an integer",
        "\"post_processor\": {\"type\": \"RobertaProcessing\"}|post_processor.type|'RobertaProcessing' is not supported",
        "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\"}}], \"special_tokens\": {}}|post_processor.single[0]|'<s>' has no entry",
        "\"added_tokens\": {}|added_tokens|must be a list",
        "\"added_tokens\": [{\"id\": 9, \"content\": \"\"}]|added_tokens[0].content|must not be empty",
        "\"added_tokens\": [{\"content\": \"<x>\"}]|added_tokens[0].id|must be an integer",
        "\"added_tokens\": [{\"id\": 1, \"content\": \"<x>\"}]|added_tokens[0].id|is 'a' in model.vocab",
        "\"added_tokens\": [{\"id\": 9, \"content\": \"<x>\"}, {\"id\": 9, \"content\": \"<y>\"}]|added_tokens[1].id|used by both",
        "\"added_tokens\": [{\"id\": 9, \"content\": \"<x>\", \"special\": \"yes\"}]|added_tokens[0].special|true or false",
      })
  void malformedComponents(String section, String field, String what) throws IOException {
    refused("{" + MINIMAL_MODEL + ", " + section + "}", field, what);
  }

  private Path llama2Copy(String config) throws IOException {
    Path fixture = TokenizerFixtureTest.fixture("llama2");
    Files.copy(
        fixture.resolve("tokenizer.json"),
        dir.resolve("tokenizer.json"),
        StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(dir.resolve("tokenizer_config.json"), config);
    return dir;
  }

  @Test
  void configAddBosAndEosOverrideThePostProcessor() throws IOException {
    Tokenizer t =
        Tokenizer.load(
            llama2Copy(
                "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}, \"add_bos_token\": false, \"add_eos_token\": true}"));
    int[] ids = t.encode("Hello", true);
    assertThat(ids[0]).isNotEqualTo(1);
    assertThat(ids[ids.length - 1]).isEqualTo(2);
    assertThat(t.specialTokens().addBos()).isFalse();
    assertThat(t.specialTokens().addEos()).isTrue();
    assertThat(t.encode("Hello", false)).doesNotContain(2);
  }

  @Test
  void badConfigsAreRefusedNamingTheConfigFile() throws IOException {
    assertThatThrownBy(() -> Tokenizer.load(llama2Copy("{\"add_bos_token\": true}")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer_config.json")
        .hasMessageContaining("add_bos_token is true but bos_token is not set");
    assertThatThrownBy(
            () ->
                Tokenizer.load(llama2Copy("{\"bos_token\": \"<nope>\", \"add_bos_token\": true}")))
        .hasMessageContaining("bos_token '<nope>' is not in the tokenizer's vocabulary");
    assertThatThrownBy(() -> Tokenizer.load(llama2Copy("{\"bos_token\": 5}")))
        .hasMessageContaining("bos_token must be a string");
    assertThatThrownBy(() -> Tokenizer.load(llama2Copy("{\"chat_template\": 5}")))
        .hasMessageContaining("chat_template must be a string or a list");
    assertThatThrownBy(() -> Tokenizer.load(llama2Copy("{\"chat_template\": [{\"name\": \"x\"}]}")))
        .hasMessageContaining(
            "chat_template[0] must be an object with string 'name' and 'template'");
    assertThatThrownBy(() -> Tokenizer.load(llama2Copy("{\"bos_token\": ")))
        .hasMessageContaining("tokenizer_config.json: invalid JSON");
  }

  @Test
  void chatTemplatesFromListFormAndJinjaFile() throws IOException {
    Tokenizer named =
        Tokenizer.load(
            llama2Copy(
                "{\"chat_template\": [{\"name\": \"default\", \"template\": \"A\"}, {\"name\": \"tool_use\", \"template\": \"B\"}]}"));
    assertThat(named.chatTemplate()).contains("A");
    assertThat(named.chatTemplates()).containsOnlyKeys("default", "tool_use");
    Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages }}");
    Tokenizer fromFile = Tokenizer.load(llama2Copy("{}"));
    assertThat(fromFile.chatTemplate()).contains("{{ messages }}");
  }

  @Test
  void exportAccessorsDescribeTheVocabulary() {
    Tokenizer llama2 = Tokenizer.load(TokenizerFixtureTest.fixture("llama2"));
    assertThat(llama2.tokenType(0)).isEqualTo(TokenType.UNKNOWN);
    assertThat(llama2.tokenType(1)).isEqualTo(TokenType.CONTROL);
    assertThat(llama2.tokenType(llama2.tokenToId("<0x41>").getAsInt())).isEqualTo(TokenType.BYTE);
    int merged = llama2.tokenToId(llama2.merges().get(0)[0] + llama2.merges().get(0)[1]).getAsInt();
    assertThat(llama2.tokenType(merged)).isEqualTo(TokenType.NORMAL);
    assertThat(llama2.score(merged)).isEqualTo(-1f);
    assertThat(llama2.byteFallback()).isTrue();
    assertThat(llama2.unkId()).hasValue(0);
    assertThat(llama2.bosId()).hasValue(1);
    Tokenizer llama3 = Tokenizer.load(TokenizerFixtureTest.fixture("llama3"));
    assertThat(llama3.splitPatterns()).hasSize(1).first().asString().startsWith("(?i:'s|'t");
    assertThat(llama3.endOfTurnIds()).contains(llama3.tokenToId("<|eot_id|>").getAsInt());
    assertThat(llama3.specialTokens().addBos()).isTrue();
    Tokenizer qwen2 = Tokenizer.load(TokenizerFixtureTest.fixture("qwen2"));
    assertThat(qwen2.endOfTurnIds())
        .containsExactly(
            qwen2.tokenToId("<|im_end|>").getAsInt(), qwen2.tokenToId("<|endoftext|>").getAsInt());
    assertThat(qwen2.tokenType(qwen2.tokenToId("[CUSTOM]").getAsInt()))
        .isEqualTo(TokenType.USER_DEFINED);
    assertThat(qwen2.bosId()).isEmpty();
    assertThat(qwen2.ggufPreTokenizer()).contains("qwen2");
    assertThat(llama3.ggufPreTokenizer()).contains("llama-bpe");
    assertThat(llama2.ggufPreTokenizer()).contains("default");
    assertThat(Tokenizer.load(TokenizerFixtureTest.fixture("gpt2")).ggufPreTokenizer())
        .contains("gpt-2");
    assertThat(qwen2.idToToken(-1)).isNull();
    assertThat(qwen2.tokenToId("definitely not a token")).isEmpty();
  }
}
