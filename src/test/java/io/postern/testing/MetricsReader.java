package io.postern.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one series from Postern's {@code /metrics}, over HTTP as Prometheus does: what an
 * operator sees. A series not (yet) exposed reads as 0, the value a counter starts at.
 */
public final class MetricsReader {

  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private MetricsReader() {}

  /** The value of {@code name} with exactly these labels ({@code key, value, ...}). */
  public static double value(PosternFixture postern, String name, String... labels) {
    return value(postern.adminUrl(), name, labels);
  }

  /** The same from the admin endpoint at {@code adminUrl}, e.g. a packaged jar's. */
  public static double value(String adminUrl, String name, String... labels) {
    Map<String, String> wanted = new HashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    for (String line : scrape(adminUrl).split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String series = brace < 0 ? line.substring(0, space) : line.substring(0, brace);
      if (!series.equals(name)) {
        continue;
      }
      Map<String, String> have = new HashMap<>();
      if (brace >= 0) {
        Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
        while (m.find()) {
          have.put(m.group(1), m.group(2));
        }
      }
      if (have.equals(wanted)) {
        return Double.parseDouble(line.substring(space + 1).trim());
      }
    }
    return 0.0;
  }

  private static String scrape(String adminUrl) {
    try {
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
              URI.create(adminUrl + "/metrics")).timeout(Duration.ofSeconds(10)).GET()
          .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (response.statusCode() != 200) {
        throw new AssertionError("/metrics answered " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("cannot read /metrics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
