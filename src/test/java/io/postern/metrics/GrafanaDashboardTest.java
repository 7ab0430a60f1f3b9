package io.postern.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What makes {@code grafana/postern.json} import into any Grafana and show one Postern or all:
 * every query goes to the {@code datasource} variable, every Postern selector honours the
 * {@code instance} variable, and every metric it names is one Postern exports. (The queries
 * themselves run against a real Prometheus in ObservabilityIT.)
 */
class GrafanaDashboardTest {

  private static final Pattern POSTERN_SELECTOR = Pattern.compile("(postern_[a-z_]+)(\\{[^}]*})?");

  private final JsonObject dashboard = load();

  private static JsonObject load() {
    try {
      return new JsonObject(Files.readString(Path.of("grafana/postern.json")));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every panel, rows included. */
  private Stream<JsonObject> panels() {
    return dashboard.getJsonArray("panels").stream().map(JsonObject.class::cast);
  }

  /** The panels that query something: a row only groups the panels below it. */
  private Stream<JsonObject> queryPanels() {
    return panels().filter(p -> !"row".equals(p.getString("type")));
  }

  @Test
  void itShouldHaveADatasourceVariableAndAnInstanceVariable() {
    JsonArray variables = dashboard.getJsonObject("templating").getJsonArray("list");
    JsonObject datasource = variables.getJsonObject(0);
    assertThat(datasource.getString("name")).isEqualTo("datasource");
    assertThat(datasource.getString("type")).isEqualTo("datasource");
    assertThat(datasource.getString("query")).isEqualTo("prometheus");
    assertThat(variables.stream().map(JsonObject.class::cast).map(v -> v.getString("name")))
        .contains("instance");
    assertThat(dashboard.getString("uid")).isEqualTo("postern");
  }

  @Test
  void everyPanelAndQueryShouldUseTheDatasourceVariable() {
    assertThat(queryPanels()).isNotEmpty().allSatisfy(panel -> {
      assertThat(panel.getJsonObject("datasource").getString("uid")).as(panel.getString("title"))
          .isEqualTo("${datasource}");
      panel.getJsonArray("targets").forEach(t -> assertThat(((JsonObject) t)
          .getJsonObject("datasource").getString("uid")).isEqualTo("${datasource}"));
    });
  }

  @Test
  void panelIdsShouldBeUniqueAndPanelsShouldNotOverlap() {
    Set<Integer> ids = new HashSet<>();
    List<JsonObject> all = panels().toList();
    for (JsonObject p : all) {
      assertThat(ids.add(p.getInteger("id"))).as("id %s", p.getInteger("id")).isTrue();
      JsonObject g = p.getJsonObject("gridPos");
      assertThat(g.getInteger("x") + g.getInteger("w")).as(p.getString("title"))
          .isLessThanOrEqualTo(24);
    }
    for (JsonObject a : all) {
      for (JsonObject b : all) {
        if (a != b) {
          assertThat(overlap(a.getJsonObject("gridPos"), b.getJsonObject("gridPos")))
              .as("%s / %s", a.getString("title"), b.getString("title")).isFalse();
        }
      }
    }
  }

  @Test
  void everyPosternSelectorShouldFilterByInstanceAndNameAnExportedMetric() {
    Set<String> exported = Set.of("postern_connections_active", "postern_connections_total",
        "postern_connections_rejected_total", "postern_listener_up",
        "postern_tls_handshakes_total", "postern_logins_total",
        "postern_auth_duration_seconds_bucket", "postern_auth_errors_total",
        "postern_auth_cache_total", "postern_backend_connect_duration_seconds_bucket",
        "postern_backend_errors_total", "postern_sessions_active",
        "postern_session_duration_seconds_bucket", "postern_relay_bytes_total",
        "postern_tls_certificate_expiry_timestamp_seconds", "postern_build_info",
        "postern_backend_up", "postern_backend_sessions", "postern_backend_failovers_total",
        "postern_backend_check_duration_seconds_bucket");
    queryPanels().forEach(panel -> panel.getJsonArray("targets").forEach(t -> {
      String expr = ((JsonObject) t).getString("expr");
      Matcher m = POSTERN_SELECTOR.matcher(expr);
      int found = 0;
      while (m.find()) {
        found++;
        assertThat(exported).as(expr).contains(m.group(1));
        assertThat(m.group(2)).as(expr).contains("instance=~\"$instance\"");
      }
      if (found == 0) {
        assertThat(expr).as(panel.getString("title")).contains("instance=~\"$instance\"");
      }
    }));
  }

  @Test
  void aBackendsRowShouldShowEachPoolsServersTheirSessionsFailoversAndChecks() {
    List<JsonObject> all = panels().toList();
    JsonObject row = all.stream().filter(p -> "row".equals(p.getString("type"))
        && "Backends".equals(p.getString("title"))).findFirst().orElseThrow();
    int top = row.getJsonObject("gridPos").getInteger("y");
    // Grafana puts a row's panels below it, up to the next row: these must be there.
    List<String> below = all.stream()
        .filter(p -> p.getJsonObject("gridPos").getInteger("y") > top)
        .filter(p -> !"row".equals(p.getString("type")))
        .flatMap(p -> p.getJsonArray("targets").stream())
        .map(t -> ((JsonObject) t).getString("expr")).toList();
    assertThat(String.join("\n", below)).contains("postern_backend_up{",
        "postern_backend_sessions{", "rate(postern_backend_failovers_total{",
        "histogram_quantile(0.5, sum by (le, backend, server) (rate("
            + "postern_backend_check_duration_seconds_bucket{",
        "histogram_quantile(0.99, sum by (le, backend, server) (rate("
            + "postern_backend_check_duration_seconds_bucket{");
    // Nothing else sits in the row: the backend panels are the dashboard's last.
    assertThat(below).allSatisfy(expr -> assertThat(expr).contains("postern_backend_"));
  }

  private static boolean overlap(JsonObject a, JsonObject b) {
    return a.getInteger("x") < b.getInteger("x") + b.getInteger("w")
        && b.getInteger("x") < a.getInteger("x") + a.getInteger("w")
        && a.getInteger("y") < b.getInteger("y") + b.getInteger("h")
        && b.getInteger("y") < a.getInteger("y") + a.getInteger("h");
  }
}
