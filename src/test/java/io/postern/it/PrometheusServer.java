package io.postern.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * Debian's Prometheus as a plain process on a loopback port the OS picks, scraping one target
 * every second, with rule files loaded. Queries go through its HTTP API, as Grafana's would.
 */
public final class PrometheusServer implements AutoCloseable {

  // Two lines of its log, in either order: that it is ready, and the port it bound.
  private static final Pattern READY_ON_PORT = Pattern.compile(
      "(?s)^(?=.*Server is ready).*?msg=\"Listening on\" address=127\\.0\\.0\\.1:(\\d+)");

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

  private final ServiceProcess process;
  private final int port;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  private PrometheusServer(ServiceProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Scrapes {@code target} (host:port of a /metrics endpoint) as job {@code postern}. */
  public static PrometheusServer start(Path dir, String target, List<Path> ruleFiles)
      throws Exception {
    Path binary = RealParts.require("prometheus");
    Files.createDirectories(dir);
    StringBuilder rules = new StringBuilder();
    for (Path r : ruleFiles) {
      rules.append("  - '").append(r.toAbsolutePath()).append("'\n");
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        + (rules.length() > 0 ? "rule_files:\n" + rules : "")
        + "scrape_configs:\n  - job_name: postern\n    static_configs:\n"
        + "      - targets: ['" + target + "']\n");
    ServiceProcess process = new ServiceProcess("Prometheus", dir.resolve("prometheus.log"),
        STOP_TIMEOUT);
    MatchResult ready = process.start(new ProcessBuilder(binary.toString(),
        "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:0", "--log.level=info"), START_TIMEOUT, READY_ON_PORT);
    return new PrometheusServer(process, Integer.parseInt(ready.group(1)));
  }

  public int port() {
    return port;
  }

  /** An instant query; the API's whole answer ({@code status}, {@code data}, {@code error}). */
  public JsonObject query(String promql) throws IOException, InterruptedException {
    return new JsonObject(get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
  }

  /** The result vector of a query that must succeed. */
  public JsonArray vector(String promql) throws IOException, InterruptedException {
    JsonObject answer = query(promql);
    if (!"success".equals(answer.getString("status"))) {
      throw new AssertionError("query " + promql + " failed: " + answer.encode());
    }
    return answer.getJsonObject("data").getJsonArray("result");
  }

  /** The single value of a query, or NaN when it returns nothing. */
  public double value(String promql) throws IOException, InterruptedException {
    JsonArray result = vector(promql);
    if (result.isEmpty()) {
      return Double.NaN;
    }
    return Double.parseDouble(result.getJsonObject(0).getJsonArray("value").getString(1));
  }

  /** The loaded alerting rules and their state, as {@code /api/v1/rules} says. */
  public JsonObject rules() throws IOException, InterruptedException {
    return new JsonObject(get("/api/v1/rules"));
  }

  private String get(String pathAndQuery) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  @Override
  public void close() {
    process.close();
  }
}
