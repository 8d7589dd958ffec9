package dev.entity.training.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GoTemplateTest {

  private static String render(String template, Map<String, ?> data) {
    return GoTemplate.parse(template).render(data);
  }

  @Test
  void trimMarkersRemoveWhitespaceOnTheirSideOnly() {
    assertThat(render("a  \n {{- .X -}} \n  b", Map.of("X", "x"))).isEqualTo("axb");
    assertThat(render("a {{ .X }} b", Map.of("X", "x"))).isEqualTo("a x b");
    assertThat(render("a {{- .X }} b", Map.of("X", "x"))).isEqualTo("ax b");
  }

  @Test
  void conditionsRangesAndFunctions() {
    Map<String, Object> data =
        Map.of(
            "System",
            "",
            "Messages",
            List.of(
                Map.of("Role", "user", "Content", "hi"),
                Map.of("Role", "assistant", "Content", "yo")));
    String t =
        "{{ range $i, $m := .Messages }}[{{ $i }}:{{ if eq .Role \"user\" }}U{{ else if eq"
            + " $m.Role \"assistant\" \"x\" }}A{{ else }}?{{ end }}={{ .Content }}"
            + "{{ if and (gt $i 0) (not $.System) }}!{{ end }}]{{ end }}{{ len .Messages }}";
    assertThat(render(t, data)).isEqualTo("[0:U=hi][1:A=yo!]2");
    assertThat(render("{{ if or .System \"\" }}s{{ else }}n{{ end }}", data)).isEqualTo("n");
    assertThat(render("{{ \"a\\nb\" }}{{ ne 1 2 }}{{ lt 1 2 }}", data)).isEqualTo("a\nbtruetrue");
  }

  @Test
  void malformedOrUnsupportedTemplatesAreErrors() {
    for (String bad :
        List.of(
            "{{ if .X }}no end",
            "{{ .X ",
            "{{ range .M }}x",
            "{{ .X | printf }}",
            "{{ $x := 1 }}",
            "{{ template \"a\" }}",
            "{{ end }}",
            "{{ printf \"%s\" .X }}")) {
      assertThatThrownBy(() -> render(bad, Map.of("X", "v", "M", List.of())))
          .as(bad)
          .isInstanceOf(EntityException.class)
          .hasMessageContaining("Go template");
    }
    assertThatThrownBy(() -> render("{{ $nope }}", Map.of())).hasMessageContaining("undefined");
  }
}
