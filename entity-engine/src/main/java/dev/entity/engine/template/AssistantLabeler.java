// Convention: assistant spans are found by incremental prefix rendering, never by searching for the
// message text: the span of assistant message i is what render(messages[..i+1]) adds after
// render(messages[..i], add_generation_prompt=true). A token is labelled when it overlaps a span,
// up to and including the last end-of-turn token inside it; what follows (a newline) is not.
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
      if (!upTo.startsWith(prompt) || !full.startsWith(upTo)) {
        throw new EngineException(
            template.name()
                + ": rendering is not prefix-stable at message "
                + i
                + " (the conversation up to an assistant message does not start with the prompt"
                + " rendered before it), so assistant tokens cannot be located; use a built-in"
                + " template ("
                + String.join(", ", ChatTemplate.BUILT_IN)
                + ") or a template whose earlier turns do not depend on later ones");
      }
      spans.add(new int[] {prompt.length(), upTo.length()});
    }
    Encoding enc = tokenizer.encodeWithOffsets(full, false);
    int n = enc.size();
    Set<Integer> endOfTurn = new HashSet<>();
    for (int id : template.endOfTurnIds(tokenizer)) {
      endOfTurn.add(id);
    }
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
