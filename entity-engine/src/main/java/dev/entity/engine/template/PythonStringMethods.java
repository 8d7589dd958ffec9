// Convention: only methods Hugging Face chat templates call are provided, with Python's semantics
// (str.strip() without arguments strips Unicode whitespace; split() without a separator splits on
// whitespace runs and drops empty parts); anything else falls through to Jinjava's own resolvers.
package dev.entity.engine.template;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * An EL resolver that gives Jinjava the Python {@code str} and {@code dict} methods chat templates
 * use ({@code strip}, {@code startswith}, {@code split}, {@code items}, ...), which Java strings
 * and maps lack or spell differently.
 */
final class PythonStringMethods extends ELResolver {

  @Override
  public Object invoke(
      ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    if (method == null) {
      return null;
    }
    String name = method.toString();
    Object[] args = params == null ? new Object[0] : params;
    Object result;
    if (base instanceof String s) {
      result = stringMethod(s, name, args);
    } else if (base instanceof Map<?, ?> m) {
      result = mapMethod(m, name, args);
    } else {
      return null;
    }
    if (result != NOT_HANDLED) {
      context.setPropertyResolved(true);
      return result;
    }
    return null;
  }

  private static final Object NOT_HANDLED = new Object();

  private static Object stringMethod(String s, String name, Object[] a) {
    return switch (name) {
      case "strip" -> strip(s, a.length > 0 ? a[0] : null, true, true);
      case "lstrip" -> strip(s, a.length > 0 ? a[0] : null, true, false);
      case "rstrip" -> strip(s, a.length > 0 ? a[0] : null, false, true);
      case "startswith" -> anyMatch(a[0], p -> s.startsWith(p));
      case "endswith" -> anyMatch(a[0], p -> s.endsWith(p));
      case "upper" -> s.toUpperCase(Locale.ROOT);
      case "lower" -> s.toLowerCase(Locale.ROOT);
      case "title" -> title(s);
      case "capitalize" ->
          s.isEmpty()
              ? s
              : s.substring(0, 1).toUpperCase(Locale.ROOT)
                  + s.substring(1).toLowerCase(Locale.ROOT);
      case "split" -> split(s, a.length > 0 ? a[0] : null, a.length > 1 ? toInt(a[1]) : -1);
      case "splitlines" ->
          List.of(s.split("\r\n|\r|\n", -1)).stream().limit(countLines(s)).toList();
      case "replace" -> s.replace(String.valueOf(a[0]), String.valueOf(a[1]));
      case "find" -> s.indexOf(String.valueOf(a[0]));
      case "count" -> count(s, String.valueOf(a[0]));
      case "join" -> join(s, a[0]);
      case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
      case "isalpha" -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
      case "isspace" -> !s.isEmpty() && s.chars().allMatch(PythonStringMethods::isSpace);
      default -> NOT_HANDLED;
    };
  }

  private static Object mapMethod(Map<?, ?> m, String name, Object[] a) {
    return switch (name) {
      case "items" -> {
        List<List<Object>> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
          out.add(java.util.Arrays.asList(e.getKey(), e.getValue()));
        }
        yield out;
      }
      case "keys" -> new ArrayList<>(m.keySet());
      case "values" -> new ArrayList<>(m.values());
      case "get" -> m.containsKey(a[0]) ? m.get(a[0]) : (a.length > 1 ? a[1] : null);
      default -> NOT_HANDLED;
    };
  }

  static boolean isSpace(int c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
  }

  private static String strip(String s, Object chars, boolean left, boolean right) {
    String set = chars == null ? null : chars.toString();
    int from = 0;
    int to = s.length();
    while (left
        && from < to
        && (set == null ? isSpace(s.charAt(from)) : set.indexOf(s.charAt(from)) >= 0)) {
      from++;
    }
    while (right
        && to > from
        && (set == null ? isSpace(s.charAt(to - 1)) : set.indexOf(s.charAt(to - 1)) >= 0)) {
      to--;
    }
    return s.substring(from, to);
  }

  private static boolean anyMatch(Object prefixes, java.util.function.Predicate<String> test) {
    if (prefixes instanceof Collection<?> c) {
      for (Object p : c) {
        if (test.test(String.valueOf(p))) {
          return true;
        }
      }
      return false;
    }
    if (prefixes instanceof Object[] arr) {
      return anyMatch(List.of(arr), test);
    }
    return test.test(String.valueOf(prefixes));
  }

  private static String title(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    boolean previousCased = false;
    for (char c : s.toCharArray()) {
      sb.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
      previousCased = Character.isLetter(c);
    }
    return sb.toString();
  }

  private static List<String> split(String s, Object sep, int maxSplit) {
    List<String> out = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      while (i < s.length()) {
        while (i < s.length() && isSpace(s.charAt(i))) {
          i++;
        }
        if (i >= s.length()) {
          break;
        }
        if (maxSplit >= 0 && out.size() == maxSplit) {
          out.add(strip(s.substring(i), null, false, true));
          return out;
        }
        int j = i;
        while (j < s.length() && !isSpace(s.charAt(j))) {
          j++;
        }
        out.add(s.substring(i, j));
        i = j;
      }
      return out;
    }
    String d = sep.toString();
    int i = 0;
    while (true) {
      int j = s.indexOf(d, i);
      if (j < 0 || (maxSplit >= 0 && out.size() == maxSplit)) {
        out.add(s.substring(i));
        return out;
      }
      out.add(s.substring(i, j));
      i = j + d.length();
    }
  }

  private static long countLines(String s) {
    if (s.isEmpty()) {
      return 0;
    }
    long n = s.split("\r\n|\r|\n", -1).length;
    return s.endsWith("\n") || s.endsWith("\r") ? n - 1 : n;
  }

  private static int count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.length() + 1;
    }
    int n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
      n++;
    }
    return n;
  }

  private static String join(String sep, Object items) {
    List<String> parts = new ArrayList<>();
    if (items instanceof Iterable<?> it) {
      it.forEach(x -> parts.add(String.valueOf(x)));
    }
    return String.join(sep, parts);
  }

  private static int toInt(Object o) {
    return o instanceof Number n ? n.intValue() : Integer.parseInt(o.toString());
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}
}
