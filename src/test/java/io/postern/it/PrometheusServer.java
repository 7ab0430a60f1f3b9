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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * Debian's Prometheus as a plain process on a loopback port the OS picks, scraping one target
 * every second, with rule files loaded. Queries go through its HTTP API, as Grafana's would.
 */
public final class PrometheusServer implements AutoCloseable {

  private static final Pattern LISTENING =
      Pattern.compile("msg=\"Listening on\" address=127\\.0\\.0\\.1:(\\d+)");

  private final Process process;
  private final Path log;
  private final int port;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  private PrometheusServer(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
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
    Path log = dir.resolve("prometheus.log");
    Process p = new ProcessBuilder(binary.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:0",
        "--log.level=info")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    int[] port = {0};
    try {
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
        if (!p.isAlive()) {
          throw new IllegalStateException("prometheus exited:\n" + Files.readString(log));
        }
        Matcher m = LISTENING.matcher(Files.readString(log));
        if (m.find()) {
          port[0] = Integer.parseInt(m.group(1));
        }
        return port[0] > 0 && Files.readString(log).contains("Server is ready");
      });
    } catch (RuntimeException | Error e) {
      ExternalCommand.kill(p);
      throw e;
    }
    return new PrometheusServer(p, log, port[0]);
  }

  public int port() {
    return port;
  }

  /** An instant query; the API's whole answer ({@code status}, {@code data}, {@code error}). */
  public JsonObject query(String promql) throws IOException, InterruptedException {
    String url = "http://127.0.0.1:" + port + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body());
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

  /** The time of the last scrape of the target, as Prometheus's {@code /api/v1/targets} says. */
  public String targets() throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/api/v1/targets"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  /** The loaded alerting rules and their state, as {@code /api/v1/rules} says. */
  public JsonObject rules() throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/api/v1/rules"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body());
  }

  public String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
