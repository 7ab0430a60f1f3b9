package io.postern;

import io.postern.auth.Authenticator;
import io.postern.config.ConfigError;
import io.postern.config.ConfigException;
import io.postern.config.ConfigLoader;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.demo.DemoMode;
import io.postern.listener.DescriptorBudget;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.postern.logging.LogFormat;
import io.postern.metrics.MeteredVertx;
import io.postern.metrics.PosternMeters;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command line: {@code java -jar postern.jar [--config FILE] [--demo] [--check-config]
 * [--version]}. Exit codes: 0 fine, 1 could not start (e.g. a port cannot be bound), 2 bad
 * configuration or usage.
 */
public final class Postern {

  private static final Logger LOG = LoggerFactory.getLogger(Postern.class);
  /** What SIGHUP does: nothing but a line until Postern has started, then a reload. */
  private static volatile Runnable hangUp = () ->
      LOG.warn("SIGHUP while Postern is starting: ignored (nothing to reload yet)");
  static final Path DEFAULT_CONFIG = Path.of("conf/postern.yaml");

  /** The parsed command line. */
  record Options(Path config, boolean demo, boolean checkOnly, boolean version, boolean help) {

    static Options parse(String[] args) {
      Path config = DEFAULT_CONFIG;
      boolean demo = false;
      boolean check = false;
      boolean version = false;
      boolean help = false;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--config", "-c" -> {
            if (i + 1 >= args.length) {
              throw new IllegalArgumentException("--config needs a file name");
            }
            config = Path.of(args[++i]);
          }
          case "--demo" -> demo = true;
          case "--check-config", "-t" -> check = true;
          case "--version", "-v" -> version = true;
          case "--help", "-h" -> help = true;
          default -> {
            if (args[i].startsWith("--config=")) {
              config = Path.of(args[i].substring("--config=".length()));
            } else {
              throw new IllegalArgumentException("unknown option " + args[i]);
            }
          }
        }
      }
      return new Options(config, demo, check, version, help);
    }
  }

  private Postern() {}

  public static void main(String[] args) {
    int status = run(args, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("postern: " + e.getMessage());
      err.println(usage());
      return 2;
    }
    if (options.help()) {
      out.println(usage());
      return 0;
    }
    if (options.version()) {
      out.println("postern " + version());
      return 0;
    }
    // Client-initiated TLS renegotiation is a cheap CPU attack and no mail client needs it.
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
    VertxOptions vertxOptions = MeteredVertx.options();
    PrometheusMeterRegistry registry = MeteredVertx.registry();
    Vertx vertx = MeteredVertx.create(vertxOptions, registry);
    if (!options.checkOnly()) {
      // At once: a SIGHUP during start-up (systemctl reload right after start) would otherwise
      // stop the JVM. Until Postern has started, it is only logged.
      onHangUp(() -> hangUp.run());
    }
    try {
      return serve(options, vertx, vertxOptions.getEventLoopPoolSize(), registry, out, err);
    } catch (RuntimeException e) {
      err.println("postern: " + e.getMessage());
      closeQuietly(vertx);
      return 1;
    }
  }

  private static int serve(Options options, Vertx vertx, int eventLoops,
      PrometheusMeterRegistry registry, PrintStream out, PrintStream err) {
    PosternConfig config;
    DemoMode demo = null;
    PosternServer.Resources resources;
    try {
      config = ConfigLoader.load(vertx, options.config(), System.getenv()).await();
      if (!options.checkOnly()) {
        LogFormat.apply(config.logging().format());
      }
      Authenticator authenticator = null;
      if (options.demo()) {
        demo = DemoMode.start(vertx, config);
        config = demo.config();
        authenticator = demo.authenticator();
      }
      resources = PosternServer.load(vertx, config, authenticator);
    } catch (ConfigException e) {
      return configErrors(options, e, err, vertx, demo);
    } catch (RuntimeException e) {
      // The demo mailbox runs its own (non-daemon) threads: stop them on every way out.
      stopDemo(demo);
      throw e;
    }
    if (options.checkOnly()) {
      for (ConfigError warning : PosternServer.warnings(resources, true)) {
        err.println("postern: warning: " + warning.key() + ": " + warning.message());
      }
      out.println("postern: configuration " + options.config() + " is valid ("
          + count(config.listeners().size(), "listener") + ", "
          + count(config.backends().size(), "backend")
          + serversIfPools(config)
          + (resources.users() >= 0 ? ", " + count(resources.users(), "user") : "") + ")");
      out.println("postern: " + connectionBudget(resources.config()));
      out.println("postern: a reload (SIGHUP, POST /api/reload) applies every key to new"
          + " sessions; " + ConfigReload.IN_PROGRESS + "; " + String.join(", ",
          ConfigReload.RESTART_KEYS) + " need a restart");
      resources.authenticator().close();
      stopDemo(demo);
      closeQuietly(vertx);
      return 0;
    }
    PosternServer server;
    PosternMeters meters;
    try {
      meters = new PosternMeters(registry, config,
          resources.authenticator().source(), version());
      server = PosternServer.start(vertx, resources, eventLoops, meters).await();
    } catch (Exception e) {
      err.println("postern: " + e.getMessage());
      stopDemo(demo);
      closeQuietly(vertx);
      return 1;
    }
    announce(server, config, demo, vertx);
    ConfigReload reload = new ConfigReload(vertx, options.config(), System.getenv(), server, demo,
        meters);
    hangUp = () -> reload.reload("SIGHUP");
    server.adminReload(() -> reload.reload("admin API"));
    // Timing the hashes takes a moment: after start, on a worker.
    vertx.executeBlocking(() -> PosternServer.warnings(resources, true), false)
        .onSuccess(warnings -> warnings.forEach(w -> LOG.warn("{}: {}", w.key(), w.message())));
    DemoMode stopWith = demo;
    PosternConfig running = config;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("Postern stopping");
      try {
        server.stop().await(running.limits().shutdownGrace().toSeconds() + 5, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        LOG.warn("sessions still open after the grace period are cut");
      }
      stopDemo(stopWith);
      closeQuietly(vertx);
    }, "postern-shutdown"));
    return 0;
  }

  /**
   * SIGHUP reloads the configuration, as for nginx (and {@code systemctl reload}); without this
   * the JVM would stop on it. Where the platform has no such signal, there is only the admin API.
   */
  @SuppressWarnings("restriction")
  private static void onHangUp(Runnable action) {
    try {
      Object before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> action.run());
      if (before == sun.misc.SignalHandler.SIG_IGN) {
        // A signal ignored when the JVM started (nohup, some init scripts) stays ignored:
        // HotSpot then installs no handler and says nothing, so a reload would silently not happen.
        LOG.warn("SIGHUP was ignored when Postern started (nohup?), so it will not reload on"
            + " SIGHUP; reload with POST /api/reload, or start Postern without nohup");
      }
    } catch (IllegalArgumentException e) {
      LOG.warn("SIGHUP cannot be handled here ({}); reload with POST /api/reload",
          e.getMessage());
    }
  }

  /** What the open-file limit allows, as {@code --check-config} reports it. */
  private static String connectionBudget(PosternConfig config) {
    DescriptorBudget.Usage usage = DescriptorBudget.Usage.now();
    return "up to " + config.limits().maxConnections() + " connections (limits.max-connections)"
        + (usage == null ? "" : "; open-file limit " + usage.limit() + ", 2 per connection,"
        + " limits.descriptor-reserve " + config.limits().descriptorReserve() + ", "
        + usage.open() + " open now");
  }

  private static int configErrors(Options options, ConfigException e, PrintStream err,
      Vertx vertx, DemoMode demo) {
    err.println("postern: configuration " + options.config() + " has "
        + (e.errors().size() == 1 ? "an error" : e.errors().size() + " errors") + ":");
    for (ConfigError error : e.errors()) {
      err.println("  " + error.key() + ": " + error.message());
    }
    stopDemo(demo);
    closeQuietly(vertx);
    return 2;
  }

  private static void announce(PosternServer server, PosternConfig config, DemoMode demo,
      Vertx vertx) {
    // Which transport matters to CPU per login and per relayed GiB (README, Performance).
    LOG.info("Postern {} started (network: {})", version(),
        vertx.isNativeTransportEnabled() ? "native epoll" : "JDK NIO");
    for (ListenerConfig l : config.listeners()) {
      LOG.info("listener {} ({}, tls {}) on {}:{}", l.name(), l.protocol().id(), l.tls().id(),
          l.address(), server.port(l.name()));
    }
    LOG.info("admin on http://{}:{} (/metrics, /health/live, /health/ready, /api/)",
        config.admin().address(), server.adminPort());
    if (demo != null) {
      demo.announce(server::port);
    }
  }

  private static void stopDemo(DemoMode demo) {
    if (demo != null) {
      demo.close();
    }
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.warn("Vert.x did not close within 10s");
    }
  }

  static String usage() {
    return "usage: java -jar postern.jar [--config FILE] [--demo] [--check-config] [--version]\n"
        + "  --config FILE    configuration (default conf/postern.yaml)\n"
        + "  --demo           serve an embedded demo mailbox (user demo, password demo)\n"
        + "  --check-config   check the configuration and the files it names, then exit\n"
        + "  --version        print the version and exit";
  }

  static String version() {
    try (InputStream in = Postern.class.getResourceAsStream("/postern-version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** " with N servers" when some backend is a pool: what the health checks will watch. */
  private static String serversIfPools(PosternConfig config) {
    int servers = config.backends().values().stream().mapToInt(b -> b.servers().size()).sum();
    return servers == config.backends().size() ? "" : " with " + count(servers, "server");
  }

  private static String count(long n, String what) {
    return n + " " + what + (n == 1 ? "" : "s");
  }
}
