// Convention: templates are rendered as Hugging Face renders them (Jinja2 with trim_blocks and
// lstrip_blocks, Python str methods, raise_exception, strftime_now, json.dumps-style tojson); any
// template error or raise_exception becomes an EngineException naming the template.
package dev.entity.engine.template;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.entity.engine.EngineException;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;

/** Renders Hugging Face chat templates with Jinjava plus the Python-isms those templates use. */
final class JinjaRenderer {

  private static final String RAISED = "chat template raised: ";
  private static final Pattern REVERSED = Pattern.compile("([A-Za-z_][\\w.]*)\\[::-1\\]");
  private static final Jinjava JINJAVA = create();
  // Jinjava reports a failed function call without its exception message; the message travels here
  private static final ThreadLocal<String> RAISED_MESSAGE = new ThreadLocal<>();

  private JinjaRenderer() {}

  private static Jinjava create() {
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PythonStringMethods());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
    Jinjava j =
        new Jinjava(
            JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withFailOnUnknownTokens(false)
                // Message content is data: "{{ x }}" in a user's code sample must stay text.
                // Jinjava would otherwise render template syntax found inside rendered values.
                .withNestedInterpretationEnabled(false)
                .build());
    j.registerFunction(
        new ELFunctionDefinition(
            "", "raise_exception", JinjaRenderer.class, "raiseException", Object.class));
    j.registerFunction(
        new ELFunctionDefinition(
            "", "strftime_now", JinjaRenderer.class, "strftimeNow", String.class));
    j.registerFilter(new ToJson());
    return j;
  }

  /** Renders {@code template} with {@code variables}; {@code name} is used in errors. */
  static String render(String name, String template, Map<String, Object> variables) {
    String source = translate(template);
    RAISED_MESSAGE.remove();
    RenderResult result = JINJAVA.renderForResult(source, variables);
    String raisedMessage = RAISED_MESSAGE.get();
    RAISED_MESSAGE.remove();
    if (raisedMessage != null) {
      throw new EngineException(name + ": " + RAISED + raisedMessage);
    }
    for (TemplateError e : result.getErrors()) {
      if (e.getSeverity() != TemplateError.ErrorType.FATAL) {
        continue;
      }
      String msg = String.valueOf(e.getMessage());
      int raised = msg.indexOf(RAISED);
      if (raised >= 0) {
        throw new EngineException(name + ": " + msg.substring(raised));
      }
      throw new EngineException(
          name + ": cannot render the chat template (line " + e.getLineno() + "): " + msg);
    }
    return result.getOutput();
  }

  private static final Pattern STRIP_BEFORE_EXPRESSION = Pattern.compile("\\s*\\{\\{-");
  private static final Pattern STRIP_AFTER_EXPRESSION = Pattern.compile("-}}\\s*");
  private static final Pattern GENERATION = Pattern.compile("\\{%(-?)\\s*generation\\s*(-?)%}");
  private static final Pattern END_GENERATION =
      Pattern.compile("\\{%(-?)\\s*endgeneration\\s*(-?)%}");

  /**
   * Rewrites the Jinja2 forms Jinjava reads differently: {@code {{-}/{@code -}}} whitespace control
   * on expressions (Jinjava honours it only on tags), {@code x[::-1]}, and filters inside {@code
   * namespace(k=v|f - 1)} arguments (Jinjava binds the filter after the named parameter), and the
   * {@code {% generation %}} block of HF's assistant-mask extension.
   */
  static String translate(String template) {
    String s = STRIP_BEFORE_EXPRESSION.matcher(template).replaceAll("{{");
    s = STRIP_AFTER_EXPRESSION.matcher(s).replaceAll("}}");
    s = REVERSED.matcher(s).replaceAll("($1|reverse|list)");
    // HF's {% generation %} marks assistant text for its own masks; it renders its body unchanged
    s = GENERATION.matcher(s).replaceAll("{%$1 if true $2%}");
    s = END_GENERATION.matcher(s).replaceAll("{%$1 endif $2%}");
    return parenthesizeNamespaceArguments(s);
  }

  private static String parenthesizeNamespaceArguments(String s) {
    StringBuilder out = new StringBuilder();
    int from = 0;
    int at;
    while ((at = s.indexOf("namespace(", from)) >= 0) {
      int open = at + "namespace(".length();
      List<String> args = new java.util.ArrayList<>();
      int close = scanArguments(s, open, args);
      if (close < 0) {
        break;
      }
      out.append(s, from, open);
      for (int i = 0; i < args.size(); i++) {
        String arg = args.get(i);
        int eq = arg.indexOf('=');
        boolean named =
            eq > 0
                && arg.substring(0, eq).strip().matches("[A-Za-z_]\\w*")
                && arg.charAt(eq + 1) != '=';
        out.append(i > 0 ? "," : "");
        out.append(named ? arg.substring(0, eq + 1) + "(" + arg.substring(eq + 1) + ")" : arg);
      }
      out.append(')');
      from = close + 1;
    }
    return out.append(s.substring(from)).toString();
  }

  /**
   * Scans the arguments of a call whose text starts at {@code from} (just after the opening
   * parenthesis), adding each top-level argument to {@code args}; returns the index of the closing
   * parenthesis, or -1 if there is none.
   */
  private static int scanArguments(String s, int from, List<String> args) {
    int depth = 0;
    char quote = 0;
    int start = from;
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
        depth--;
      } else if (c == ')') {
        if (!s.substring(start, i).isBlank() || !args.isEmpty()) {
          args.add(s.substring(start, i));
        }
        return i;
      } else if (c == ',' && depth == 0) {
        args.add(s.substring(start, i));
        start = i + 1;
      }
    }
    return -1;
  }

  /** The {@code raise_exception(message)} global of HF templates. */
  public static Object raiseException(Object message) {
    if (RAISED_MESSAGE.get() == null) {
      RAISED_MESSAGE.set(String.valueOf(message));
    }
    throw new IllegalStateException(RAISED + message);
  }

  /**
   * The {@code strftime_now(format)} global: the current local time in a Python strftime format.
   */
  public static String strftimeNow(String format) {
    return strftime(ZonedDateTime.now(), format);
  }

  static String strftime(ZonedDateTime t, String format) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        sb.append(c);
        continue;
      }
      char f = format.charAt(++i);
      switch (f) {
        case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
        case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
        case 'Y' -> sb.append(t.getYear());
        case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
        case 'H' -> sb.append(String.format("%02d", t.getHour()));
        case 'I' -> sb.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
        case 'M' -> sb.append(String.format("%02d", t.getMinute()));
        case 'S' -> sb.append(String.format("%02d", t.getSecond()));
        case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
        case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
        case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
        case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
        case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
        case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
        case '%' -> sb.append('%');
        default -> sb.append('%').append(f);
      }
    }
    return sb.toString();
  }

  /** {@code tojson} as HF defines it: {@code json.dumps(x, ensure_ascii=False, indent=indent)}. */
  static final class ToJson implements AdvancedFilter {
    @Override
    public String getName() {
      return "tojson";
    }

    @Override
    public Object filter(
        Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
      StringBuilder sb = new StringBuilder();
      write(var, indent == null ? -1 : ((Number) indent).intValue(), 0, sb);
      return sb.toString();
    }
  }

  /** Python {@code json.dumps} formatting: ", " and ": " separators, or newlines with an indent. */
  static void write(Object v, int indent, int depth, StringBuilder sb) {
    switch (v) {
      case null -> sb.append("null");
      case String s -> quote(s, sb);
      case Boolean b -> sb.append(b ? "true" : "false");
      case Double d when d == Math.rint(d) && !d.isInfinite() ->
          sb.append(d.longValue()).append(".0");
      case Float f when f == Math.rint(f) && !f.isInfinite() ->
          sb.append(f.longValue()).append(".0");
      case Number n -> sb.append(n);
      case Map<?, ?> m -> {
        sb.append('{');
        Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
        boolean first = true;
        while (it.hasNext()) {
          Map.Entry<?, ?> e = it.next();
          separator(first, indent, depth + 1, sb);
          first = false;
          quote(String.valueOf(e.getKey()), sb);
          sb.append(": ");
          write(e.getValue(), indent, depth + 1, sb);
        }
        close(first, indent, depth, sb);
        sb.append('}');
      }
      case Collection<?> c -> {
        sb.append('[');
        boolean first = true;
        for (Object x : c) {
          separator(first, indent, depth + 1, sb);
          first = false;
          write(x, indent, depth + 1, sb);
        }
        close(first, indent, depth, sb);
        sb.append(']');
      }
      case Object[] arr -> write(List.of(arr), indent, depth, sb);
      default -> quote(v.toString(), sb);
    }
  }

  private static void separator(boolean first, int indent, int depth, StringBuilder sb) {
    if (!first) {
      sb.append(indent >= 0 ? "," : ", ");
    }
    if (indent >= 0) {
      sb.append('\n').append(" ".repeat(indent * depth));
    }
  }

  private static void close(boolean empty, int indent, int depth, StringBuilder sb) {
    if (!empty && indent >= 0) {
      sb.append('\n').append(" ".repeat(indent * depth));
    }
  }

  private static void quote(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
