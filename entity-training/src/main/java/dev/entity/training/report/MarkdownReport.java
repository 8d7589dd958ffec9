// Convention: every piece of text is backslash-escaped (CommonMark allows it before any ASCII
// punctuation that could start markup), line breaks inside table cells become <br>, and code
// blocks are fenced with more backticks than the longest run inside them.
package dev.entity.training.report;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Renders a {@link ReportDocument} as GitHub-flavoured Markdown ({@code report.md}). */
public final class MarkdownReport {

  private static final String SPECIAL = "\\`*_[]<>#|~&";
  private static final Pattern LIST_START =
      Pattern.compile("^(\\d{1,9})([.)])(?=\\s|$)|^([-+=])(?=[\\s=-]|$)");
  private static final Pattern BACKTICKS = Pattern.compile("`+");

  private MarkdownReport() {}

  /** The Markdown text of {@code document}. */
  public static String render(ReportDocument document) {
    StringBuilder s = new StringBuilder();
    s.append("# ").append(escape(document.title())).append("\n\n");
    for (ReportDocument.Block block : document.blocks()) {
      switch (block) {
        case ReportDocument.Heading h ->
            s.append("#".repeat(h.level())).append(' ').append(escape(h.text())).append("\n\n");
        case ReportDocument.Paragraph p -> s.append(escape(p.text())).append("\n\n");
        case ReportDocument.Facts f -> {
          f.facts()
              .forEach(
                  (k, v) ->
                      s.append("**")
                          .append(escape(k))
                          .append(":** ")
                          .append(escape(v))
                          .append("  \n"));
          s.append('\n');
        }
        case ReportDocument.Table t -> {
          row(s, t.header());
          s.append('|').append(" --- |".repeat(t.header().size())).append('\n');
          t.rows().forEach(r -> row(s, r));
          s.append('\n');
        }
        case ReportDocument.Links l -> {
          for (ReportDocument.Link link : l.links()) {
            s.append("- [")
                .append(escape(link.label()))
                .append("](")
                .append(link.href())
                .append(")\n");
          }
          s.append('\n');
        }
        case ReportDocument.Image i ->
            s.append("![").append(escape(i.alt())).append("](").append(i.href()).append(")\n\n");
        case ReportDocument.Preformatted p -> {
          String fence = "`".repeat(Math.max(3, longestBacktickRun(p.text()) + 1));
          s.append(fence).append("text\n").append(p.text());
          if (!p.text().endsWith("\n")) {
            s.append('\n');
          }
          s.append(fence).append("\n\n");
        }
      }
    }
    return s.toString();
  }

  private static void row(StringBuilder s, List<String> cells) {
    s.append('|');
    for (String cell : cells) {
      s.append(' ').append(escape(cell).replaceAll("\r?\n|\r", "<br>")).append(" |");
    }
    s.append('\n');
  }

  /**
   * {@code text} with every Markdown-special character backslash-escaped, and a leading list or
   * underline marker ({@code -}, {@code +}, {@code =}, {@code 1.}) made literal.
   */
  static String escape(String text) {
    StringBuilder s = new StringBuilder(text.length() + 8);
    Matcher start = LIST_START.matcher(text);
    if (start.find()) {
      s.append(
          start.group(1) == null ? "\\" + start.group(3) : start.group(1) + "\\" + start.group(2));
      text = text.substring(start.end());
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (SPECIAL.indexOf(c) >= 0) {
        s.append('\\');
      }
      s.append(c);
    }
    return s.toString();
  }

  private static int longestBacktickRun(String text) {
    int longest = 0;
    Matcher m = BACKTICKS.matcher(text);
    while (m.find()) {
      longest = Math.max(longest, m.group().length());
    }
    return longest;
  }
}
