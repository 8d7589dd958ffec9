// Convention: assistant spans are found by rendering, never by searching for the message text: the
// span of assistant message i is what render(messages[..i+1]) adds after render(messages[..i],
// add_generation_prompt=true); where a template is not prefix-stable, it is where the full
// rendering
// changes when that message's content is replaced by a marker, plus the end-of-turn token after it.
// A token is labelled when it overlaps a span, up to and including the last end-of-turn token in
// it.
package dev.entity.engine.template;

import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Encoding;
import dev.entity.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Turns a conversation into a {@link TrainingExample}: renders it with its chat template, finds
 * each assistant message's character span, tokenizes once with offsets and sets the labels, so that
 * the end-of-turn token closing every assistant message is always trained.
 */
final class AssistantLabeler {

  private AssistantLabeler() {}

  static TrainingExample encode(
      ChatTemplate template, List<ChatMessage> messages, Tokenizer tokenizer, LabelPolicy policy) {
    String full = template.render(messages, false);
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).role() != ChatMessage.Role.ASSISTANT) {
        continue;
      }
      String prompt = template.render(messages.subList(0, i), true);
      String upTo = template.render(messages.subList(0, i + 1), false);
      if (upTo.startsWith(prompt) && full.startsWith(upTo)) {
        spans.add(new int[] {prompt.length(), upTo.length(), 0});
      } else {
        spans.add(contentSpan(template, messages, i, full));
      }
    }
    Encoding enc = tokenizer.encodeWithOffsets(full, false);
    Set<Integer> endOfTurn = new HashSet<>();
    for (int id : template.endOfTurnIds(tokenizer)) {
      endOfTurn.add(id);
    }
    for (int[] span : spans) {
      if (span[2] == 1) {
        // a content span found by difference: take in the end-of-turn token right after it
        int next = firstTokenAtOrAfter(enc, span[1]);
        if (next < enc.size()
            && endOfTurn.contains(enc.ids()[next])
            && full.substring(span[1], enc.starts()[next]).isBlank()) {
          span[1] = enc.ends()[next];
        }
      }
    }
    int n = enc.size();
    boolean[] label = new boolean[n];
    int[] eosBefore = new int[n + 1]; // EOS ids to insert before token k (k == n: at the end)
    for (int[] span : spans) {
      int first = -1;
      int lastEndOfTurn = -1;
      int lastContent = -1;
      for (int k = 0; k < n; k++) {
        boolean overlaps =
            enc.ends()[k] > span[0] && enc.starts()[k] < span[1]
                || (enc.starts()[k] == enc.ends()[k]
                    && enc.starts()[k] > span[0]
                    && enc.starts()[k] < span[1]);
        if (!overlaps) {
          continue;
        }
        if (first < 0) {
          first = k;
        }
        if (endOfTurn.contains(enc.ids()[k])) {
          lastEndOfTurn = k;
        }
        if (!full.substring(enc.starts()[k], enc.ends()[k]).isBlank()) {
          lastContent = k;
        }
      }
      if (lastEndOfTurn >= 0) {
        for (int k = first; k <= lastEndOfTurn; k++) {
          label[k] = true;
        }
        continue;
      }
      // the template closes the turn without an end-of-turn token: train EOS after the content
      int insertAt;
      if (lastContent >= 0) {
        for (int k = first; k <= lastContent; k++) {
          label[k] = true;
        }
        insertAt = lastContent + 1;
      } else {
        insertAt = firstTokenAtOrAfter(enc, span[1]);
      }
      requireEos(tokenizer, template);
      eosBefore[insertAt]++;
    }
    OptionalInt eos = tokenizer.eosId();
    boolean prependBos = false;
    OptionalInt bos = tokenizer.bosId();
    if (tokenizer.specialTokens().addBos()
        && bos.isPresent()
        && (n == 0 || enc.ids()[0] != bos.getAsInt())) {
      prependBos = true;
    }
    int total = n + (prependBos ? 1 : 0);
    for (int c : eosBefore) {
      total += c;
    }
    int[] ids = new int[total];
    int[] labels = new int[total];
    int o = 0;
    if (prependBos) {
      ids[o] = bos.getAsInt();
      labels[o++] = policy == LabelPolicy.ALL_TOKENS ? bos.getAsInt() : TrainingExample.IGNORE;
    }
    for (int k = 0; k <= n; k++) {
      for (int e = 0; e < eosBefore[k]; e++) {
        ids[o] = eos.getAsInt();
        labels[o++] = eos.getAsInt();
      }
      if (k == n) {
        break;
      }
      ids[o] = enc.ids()[k];
      labels[o++] =
          policy == LabelPolicy.ALL_TOKENS || label[k] ? enc.ids()[k] : TrainingExample.IGNORE;
    }
    return new TrainingExample(ids, labels);
  }

  /**
   * The span of assistant message {@code i}'s rendered content in {@code full}, found where the
   * rendering changes when that content alone is replaced by a marker: {@code [start, end, 1]}. For
   * templates whose earlier turns depend on later ones (e.g. reasoning dropped from history).
   */
  private static int[] contentSpan(
      ChatTemplate template, List<ChatMessage> messages, int i, String full) {
    List<ChatMessage> marked = new ArrayList<>(messages);
    marked.set(i, ChatMessage.assistant(MARKER));
    String other = template.render(marked, false);
    int prefix = 0;
    int max = Math.min(full.length(), other.length());
    while (prefix < max && full.charAt(prefix) == other.charAt(prefix)) {
      prefix++;
    }
    int suffix = 0;
    while (suffix < max - prefix
        && full.charAt(full.length() - 1 - suffix) == other.charAt(other.length() - 1 - suffix)) {
      suffix++;
    }
    if (!other.contains(MARKER) || prefix > full.length() - suffix) {
      throw new EngineException(
          template.name()
              + ": cannot locate assistant message "
              + i
              + " in the rendered conversation (the template does not render it as given); use a"
              + " built-in template ("
              + String.join(", ", ChatTemplate.BUILT_IN)
              + ")");
    }
    return new int[] {prefix, full.length() - suffix, 1};
  }

  private static final String MARKER = "\uE000\uE001";

  private static int firstTokenAtOrAfter(Encoding enc, int position) {
    for (int k = 0; k < enc.size(); k++) {
      if (enc.starts()[k] >= position && enc.ends()[k] > enc.starts()[k]) {
        return k;
      }
    }
    return enc.size();
  }

  private static void requireEos(Tokenizer tokenizer, ChatTemplate template) {
    if (tokenizer.eosId().isEmpty()) {
      throw new EngineException(
          template.name()
              + " emits no end-of-turn token after assistant messages and "
              + tokenizer.source()
              + " has no eos_token (tokenizer_config.json) to append; set eos_token so the model"
              + " learns to stop");
    }
  }
}
