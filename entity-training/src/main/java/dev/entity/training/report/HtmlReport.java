// Convention: one self-contained page — inline CSS, no scripts, no external resources except the
// chart images next to it — and every string from the summary passes through escape() exactly once.
package dev.entity.training.report;

import java.util.List;

/** Renders a {@link ReportDocument} as a standalone HTML page ({@code report.html}). */
public final class HtmlReport {

  private static final String STYLE =
      """
      body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;\
      color:#222}
      table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
      th,td{border:1px solid #ccc;padding:0.25rem 0.6rem;text-align:left;vertical-align:top}
      th{background:#f3f3f3}
      td{font-variant-numeric:tabular-nums}
      pre{background:#f6f8fa;padding:0.75rem;overflow-x:auto;white-space:pre-wrap}
      img{max-width:100%;height:auto;display:block;margin:0.5rem 0 1rem}
      dl{display:grid;grid-template-columns:max-content auto;gap:0.2rem 1rem}
      dt{font-weight:bold}
      dd{margin:0}
      """;

  private HtmlReport() {}

  /** The HTML page of {@code document}. */
  public static String render(ReportDocument document) {
    StringBuilder s = new StringBuilder();
    s.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.append("<title>").append(escape(document.title())).append("</title>\n");
    s.append("<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n");
    s.append("<h1>").append(escape(document.title())).append("</h1>\n");
    for (ReportDocument.Block block : document.blocks()) {
      switch (block) {
        case ReportDocument.Heading h ->
            s.append("<h")
                .append(h.level())
                .append('>')
                .append(escape(h.text()))
                .append("</h")
                .append(h.level())
                .append(">\n");
        case ReportDocument.Paragraph p ->
            s.append("<p>").append(escape(p.text())).append("</p>\n");
        case ReportDocument.Facts f -> {
          s.append("<dl>\n");
          f.facts()
              .forEach(
                  (k, v) ->
                      s.append("<dt>")
                          .append(escape(k))
                          .append("</dt><dd>")
                          .append(escape(v))
                          .append("</dd>\n"));
          s.append("</dl>\n");
        }
        case ReportDocument.Table t -> {
          s.append("<table>\n<thead>");
          row(s, "th", t.header());
          s.append("</thead>\n<tbody>\n");
          t.rows().forEach(r -> row(s, "td", r));
          s.append("</tbody>\n</table>\n");
        }
        case ReportDocument.Links l -> {
          s.append("<ul>\n");
          for (ReportDocument.Link link : l.links()) {
            s.append("<li><a href=\"")
                .append(escape(link.href()))
                .append("\">")
                .append(escape(link.label()))
                .append("</a></li>\n");
          }
          s.append("</ul>\n");
        }
        case ReportDocument.Image i ->
            s.append("<img src=\"")
                .append(escape(i.href()))
                .append("\" alt=\"")
                .append(escape(i.alt()))
                .append("\" width=\"")
                .append(i.width())
                .append("\" height=\"")
                .append(i.height())
                .append("\">\n");
        case ReportDocument.Preformatted p ->
            s.append("<pre>").append(escape(p.text())).append("</pre>\n");
      }
    }
    s.append("</body>\n</html>\n");
    return s.toString();
  }

  private static void row(StringBuilder s, String cell, List<String> cells) {
    s.append("<tr>");
    for (String c : cells) {
      s.append('<')
          .append(cell)
          .append('>')
          .append(escape(c))
          .append("</")
          .append(cell)
          .append('>');
    }
    s.append("</tr>\n");
  }

  /** {@code text} safe in element content and in quoted attribute values. */
  static String escape(String text) {
    StringBuilder s = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> s.append("&amp;");
        case '<' -> s.append("&lt;");
        case '>' -> s.append("&gt;");
        case '"' -> s.append("&quot;");
        case '\'' -> s.append("&#39;");
        default -> s.append(c);
      }
    }
    return s.toString();
  }
}
