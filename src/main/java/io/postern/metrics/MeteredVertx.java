package io.postern.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.EnumSet;

/** Vert.x with its net, HTTP and pool meters and the JVM's, all on Postern's registry. */
public final class MeteredVertx {

  private MeteredVertx() {}

  /**
   * {@code local} ("address:port") tells the listeners apart. Never {@code remote} (every client
   * address would become a label) nor the HTTP method or path (any string a client sends to the
   * admin endpoint would).
   */
  public static VertxOptions options() {
    return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.LOCAL, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME)));
  }

  /**
   * A registry for Postern and Vert.x. Three JVM meters that break Prometheus naming rules
   * ({@code promtool check metrics}) are left out or renamed; {@code process_cpu_usage} and
   * {@code system_cpus} say the same.
   */
  public static PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config()
        .meterFilter(MeterFilter.denyNameStartsWith("jvm.compilation.time"))
        .meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
          }
        });
    // Open files matter to a proxy: every session holds two.
    new FileDescriptorMetrics().bindTo(registry);
    return registry;
  }

  public static Vertx create(VertxOptions options, PrometheusMeterRegistry registry) {
    return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }
}
