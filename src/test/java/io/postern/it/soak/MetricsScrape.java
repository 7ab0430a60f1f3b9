package io.postern.it.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One read of Postern's {@code /metrics} (Prometheus text), summed by name and labels. */
final class MetricsScrape {

  /** One sample line. */
  record Series(String name, Map<String, String> labels, double value) {}

  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private final List<Series> series;

  private MetricsScrape(List<Series> series) {
    this.series = series;
  }

  static MetricsScrape read(String adminUrl) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(adminUrl + "/metrics"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("/metrics answered " + response.statusCode());
    }
    List<Series> series = new ArrayList<>();
    for (String line : response.body().split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      Map<String, String> labels = new HashMap<>();
      if (brace >= 0) {
        Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
        while (m.find()) {
          labels.put(m.group(1), m.group(2));
        }
      }
      series.add(new Series(brace < 0 ? line.substring(0, space) : line.substring(0, brace),
          labels, Double.parseDouble(line.substring(space + 1).trim())));
    }
    return new MetricsScrape(series);
  }

  /** The sum of every series named {@code name} with these labels ({@code key, value, ...}). */
  double sum(String name, String... labels) {
    return sum(name, s -> {
      for (int i = 0; i < labels.length; i += 2) {
        if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
          return false;
        }
      }
      return true;
    });
  }

  double sum(String name, Predicate<Series> which) {
    return series.stream().filter(s -> s.name().equals(name) && which.test(s))
        .mapToDouble(Series::value).sum();
  }

  /** Sums of {@code name} by the value of {@code label}. */
  Map<String, Double> by(String name, String label) {
    Map<String, Double> sums = new java.util.TreeMap<>();
    series.stream().filter(s -> s.name().equals(name))
        .forEach(s -> sums.merge(s.labels().getOrDefault(label, ""), s.value(), Double::sum));
    return sums;
  }
}
