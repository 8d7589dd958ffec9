// Convention: this is a strict subset of Go's text/template, enough for Ollama chat templates:
// text, {{- -}} trimming, fields (.X, $.X, $v.X), variables from range, string and integer
// literals, parentheses, if / else if / else / range / end, and the functions eq, ne, and, or,
// not, len, gt, lt. Anything else is a parse error, never a silent guess.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Renders the Go templates written into Ollama Modelfiles, so that export can check, before writing
 * a Modelfile, that its TEMPLATE gives exactly the prompt text the training chat template gives.
 * Data is a map of fields; lists are ranged over; maps are field-accessed by key.
 */
public final class GoTemplate {

  private sealed interface Node permits Text, Output, If, Range {}

  private record Text(String text) implements Node {}

  private record Output(String expr) implements Node {}

  private record If(List<String> conditions, List<List<Node>> branches) implements Node {}

  private record Range(String keyVar, String valueVar, String expr, List<Node> body)
      implements Node {}

  private final String source;
  private final List<Node> root;

  private GoTemplate(String source, List<Node> root) {
    this.source = source;
    this.root = root;
  }

  /** Parses a template; an {@link EntityException} names what is not in the subset. */
  public static GoTemplate parse(String source) {
    List<String[]> tokens = tokenize(source);
    int[] pos = {0};
    List<Node> nodes = parseList(tokens, pos, source);
    if (pos[0] < tokens.size()) {
      throw error(source, "unexpected {{" + tokens.get(pos[0])[1] + "}}");
    }
    return new GoTemplate(source, nodes);
  }

  /** Renders with {@code data} as the dot and as {@code $}. */
  public String render(Map<String, ?> data) {
    StringBuilder out = new StringBuilder();
    Map<String, Object> vars = new HashMap<>();
    vars.put("$", data);
    exec(root, data, vars, out);
    return out.toString();
  }

  // ------------------------------------------------------------------ lexing

  /** Pairs of {kind, content}: kind "t" for text, "a" for an action. */
  private static List<String[]> tokenize(String s) {
    List<String[]> out = new ArrayList<>();
    int i = 0;
    boolean trimNext = false;
    while (i < s.length()) {
      int open = s.indexOf("{{", i);
      String text = open < 0 ? s.substring(i) : s.substring(i, open);
      if (trimNext) {
        text = text.stripLeading();
      }
      if (open < 0) {
        out.add(new String[] {"t", text});
        break;
      }
      int close = s.indexOf("}}", open + 2);
      if (close < 0) {
        throw error(s, "unclosed action at offset " + open);
      }
      String action = s.substring(open + 2, close);
      if (action.startsWith("- ") || action.startsWith("-\n")) {
        text = text.stripTrailing();
        action = action.substring(1);
      }
      trimNext = action.endsWith(" -") || action.endsWith("\n-");
      if (trimNext) {
        action = action.substring(0, action.length() - 1);
      }
      action = action.strip();
      if (action.startsWith("/*")) {
        action = "";
      }
      out.add(new String[] {"t", text});
      if (!action.isEmpty()) {
        out.add(new String[] {"a", action});
      }
      i = close + 2;
    }
    return out;
  }

  // ------------------------------------------------------------------ parsing

  private static List<Node> parseList(List<String[]> tokens, int[] pos, String src) {
    List<Node> nodes = new ArrayList<>();
    while (pos[0] < tokens.size()) {
      String[] t = tokens.get(pos[0]);
      if (t[0].equals("t")) {
        if (!t[1].isEmpty()) {
          nodes.add(new Text(t[1]));
        }
        pos[0]++;
        continue;
      }
      String a = t[1];
      if (a.equals("end") || a.equals("else") || a.startsWith("else if ")) {
        return nodes; // the caller consumes it
      }
      pos[0]++;
      if (a.startsWith("if ")) {
        nodes.add(parseIf(a.substring(3).strip(), tokens, pos, src));
      } else if (a.startsWith("range ")) {
        nodes.add(parseRange(a.substring(6).strip(), tokens, pos, src));
      } else if (a.startsWith("define")
          || a.startsWith("template")
          || a.startsWith("with ")
          || a.startsWith("block")
          || a.contains(":=")
          || a.contains("|")) {
        throw error(src, "{{" + a + "}} is outside the supported subset");
      } else {
        nodes.add(new Output(a));
      }
    }
    return nodes;
  }

  private static If parseIf(String cond, List<String[]> tokens, int[] pos, String src) {
    List<String> conditions = new ArrayList<>();
    List<List<Node>> branches = new ArrayList<>();
    conditions.add(cond);
    branches.add(parseList(tokens, pos, src));
    while (true) {
      if (pos[0] >= tokens.size()) {
        throw error(src, "{{if " + cond + "}} has no {{end}}");
      }
      String a = tokens.get(pos[0])[1];
      pos[0]++;
      if (a.equals("end")) {
        return new If(conditions, branches);
      } else if (a.equals("else")) {
        conditions.add("true");
      } else {
        conditions.add(a.substring("else if ".length()).strip());
      }
      branches.add(parseList(tokens, pos, src));
    }
  }

  private static Range parseRange(String spec, List<String[]> tokens, int[] pos, String src) {
    String keyVar = null;
    String valueVar = null;
    String expr = spec;
    int assign = spec.indexOf(":=");
    if (assign >= 0) {
      String[] vars = spec.substring(0, assign).split(",");
      expr = spec.substring(assign + 2).strip();
      if (vars.length == 1) {
        valueVar = vars[0].strip();
      } else if (vars.length == 2) {
        keyVar = vars[0].strip();
        valueVar = vars[1].strip();
      } else {
        throw error(src, "{{range " + spec + "}}: at most two variables");
      }
    }
    List<Node> body = parseList(tokens, pos, src);
    if (pos[0] >= tokens.size() || !tokens.get(pos[0])[1].equals("end")) {
      throw error(src, "{{range " + spec + "}} needs {{end}} (no {{else}} in this subset)");
    }
    pos[0]++;
    return new Range(keyVar, valueVar, expr, body);
  }

  // ------------------------------------------------------------------ execution

  private void exec(List<Node> nodes, Object dot, Map<String, Object> vars, StringBuilder out) {
    for (Node n : nodes) {
      switch (n) {
        case Text t -> out.append(t.text());
        case Output o -> out.append(print(eval(o.expr(), dot, vars)));
        case If f -> {
          for (int i = 0; i < f.conditions().size(); i++) {
            if (truthy(eval(f.conditions().get(i), dot, vars))) {
              exec(f.branches().get(i), dot, vars, out);
              break;
            }
          }
        }
        case Range r -> {
          Object list = eval(r.expr(), dot, vars);
          if (!(list instanceof List<?> items)) {
            if (list == null) {
              continue;
            }
            throw error(source, "{{range " + r.expr() + "}} over a non-list");
          }
          for (int i = 0; i < items.size(); i++) {
            Map<String, Object> inner = new HashMap<>(vars);
            if (r.keyVar() != null) {
              inner.put(r.keyVar(), (long) i);
            }
            if (r.valueVar() != null) {
              inner.put(r.valueVar(), items.get(i));
            }
            exec(r.body(), items.get(i), inner, out);
          }
        }
      }
    }
  }

  private Object eval(String expr, Object dot, Map<String, Object> vars) {
    List<String> words = words(expr);
    if (words.isEmpty()) {
      throw error(source, "empty expression");
    }
    String head = words.getFirst();
    List<Object> args = new ArrayList<>();
    for (String w : words.subList(1, words.size())) {
      args.add(operand(w, dot, vars));
    }
    return switch (head) {
      case "eq" -> {
        need(head, args, 2, -1);
        boolean any = false;
        for (Object b : args.subList(1, args.size())) {
          any |= same(args.getFirst(), b);
        }
        yield any;
      }
      case "ne" -> !same(need(head, args, 2, 2).get(0), args.get(1));
      case "and" -> {
        Object last = null;
        for (Object a : need(head, args, 1, -1)) {
          last = a;
          if (!truthy(a)) {
            break;
          }
        }
        yield last;
      }
      case "or" -> {
        Object last = null;
        for (Object a : need(head, args, 1, -1)) {
          last = a;
          if (truthy(a)) {
            break;
          }
        }
        yield last;
      }
      case "not" -> !truthy(need(head, args, 1, 1).getFirst());
      case "len" -> length(need(head, args, 1, 1).getFirst());
      case "gt" -> number(need(head, args, 2, 2).get(0)) > number(args.get(1));
      case "lt" -> number(need(head, args, 2, 2).get(0)) < number(args.get(1));
      default -> {
        if (!args.isEmpty()) {
          throw error(source, "'" + head + "' is not a supported function");
        }
        yield operand(head, dot, vars);
      }
    };
  }

  private Object operand(String w, Object dot, Map<String, Object> vars) {
    if (w.startsWith("(")) {
      return eval(w.substring(1, w.length() - 1), dot, vars);
    }
    if (w.startsWith("\"")) {
      return unquote(w);
    }
    if (w.matches("-?\\d+")) {
      return Long.parseLong(w);
    }
    if (w.equals("true") || w.equals("false")) {
      return Boolean.parseBoolean(w);
    }
    if (w.equals(".")) {
      return dot;
    }
    Object base;
    String path;
    if (w.startsWith(".")) {
      base = dot;
      path = w.substring(1);
    } else if (w.startsWith("$")) {
      int dotAt = w.indexOf('.');
      String name = dotAt < 0 ? w : w.substring(0, dotAt);
      if (!vars.containsKey(name)) {
        throw error(source, "undefined variable " + name);
      }
      base = vars.get(name);
      path = dotAt < 0 ? "" : w.substring(dotAt + 1);
    } else {
      throw error(source, "'" + w + "' is not a supported function or value");
    }
    for (String field : path.isEmpty() ? new String[0] : path.split("\\.")) {
      if (!(base instanceof Map<?, ?> m)) {
        throw error(source, "cannot read field " + field + " of " + w);
      }
      base = m.get(field);
    }
    return base;
  }

  private List<Object> need(String fn, List<Object> args, int min, int max) {
    if (args.size() < min || (max >= 0 && args.size() > max)) {
      throw error(source, fn + " takes " + min + (max == min ? "" : " or more") + " arguments");
    }
    return args;
  }

  private static List<String> words(String expr) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < expr.length()) {
      char c = expr.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '"') {
        int j = i + 1;
        while (j < expr.length() && expr.charAt(j) != '"') {
          j += expr.charAt(j) == '\\' ? 2 : 1;
        }
        out.add(expr.substring(i, Math.min(j + 1, expr.length())));
        i = j + 1;
      } else if (c == '(') {
        int depth = 0;
        int j = i;
        for (; j < expr.length(); j++) {
          depth += expr.charAt(j) == '(' ? 1 : expr.charAt(j) == ')' ? -1 : 0;
          if (depth == 0) {
            break;
          }
        }
        out.add(expr.substring(i, Math.min(j + 1, expr.length())));
        i = j + 1;
      } else {
        int j = i;
        while (j < expr.length() && !Character.isWhitespace(expr.charAt(j))) {
          j++;
        }
        out.add(expr.substring(i, j));
        i = j;
      }
    }
    return out;
  }

  private static String unquote(String w) {
    if (w.length() < 2 || !w.endsWith("\"")) {
      throw new EntityException("unterminated string " + w + " in a Go template");
    }
    StringBuilder b = new StringBuilder();
    for (int i = 1; i < w.length() - 1; i++) {
      char c = w.charAt(i);
      if (c == '\\' && i + 1 < w.length() - 1) {
        char e = w.charAt(++i);
        b.append(
            switch (e) {
              case 'n' -> '\n';
              case 't' -> '\t';
              default -> e;
            });
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return x.longValue() == y.longValue();
    }
    return Objects.equals(a, b);
  }

  private static long number(Object o) {
    if (o instanceof Number n) {
      return n.longValue();
    }
    throw new EntityException("a Go template compared " + o + ", which is not a number");
  }

  private static long length(Object o) {
    return switch (o) {
      case String s -> s.length();
      case List<?> l -> l.size();
      case Map<?, ?> m -> m.size();
      case null -> 0;
      default -> throw new EntityException("len of " + o + " in a Go template");
    };
  }

  static boolean truthy(Object o) {
    return switch (o) {
      case null -> false;
      case Boolean b -> b;
      case String s -> !s.isEmpty();
      case Number n -> n.longValue() != 0;
      case List<?> l -> !l.isEmpty();
      case Map<?, ?> m -> !m.isEmpty();
      default -> true;
    };
  }

  private static String print(Object o) {
    return o == null ? "<no value>" : o.toString();
  }

  private static EntityException error(String source, String what) {
    String shown = source.length() > 60 ? source.substring(0, 60) + "..." : source;
    return new EntityException("Go template \"" + shown.replace("\n", "\\n") + "\": " + what);
  }
}
