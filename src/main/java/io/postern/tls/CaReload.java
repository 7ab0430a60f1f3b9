package io.postern.tls;

import io.postern.config.BackendConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the backends' CA files ({@code backends.<name>.ca}) as {@link CertificateReload}
 * watches the server certificates: every {@code tls.watch-interval} on a worker thread, by
 * content, acting once the bytes have settled. A readable PEM file is used for new backend
 * connections (sessions relaying keep theirs); anything else is refused with one WARN line and
 * the CAs in use stay.
 */
public final class CaReload {

  private static final Logger LOG = LoggerFactory.getLogger(CaReload.class);

  private final Vertx vertx;
  private final Duration handshakeTimeout;
  private final List<Watched> watched;
  private final BiConsumer<String, ClientSSLOptions> use;
  private final Consumer<Boolean> outcome;
  private RepeatingLook looks;

  /** One backend's CA file: the bytes in use and its watcher. */
  private static final class Watched {
    final BackendConfig backend;
    final CertificateWatcher watcher = new CertificateWatcher();
    volatile FileContents serving;

    Watched(BackendConfig backend, FileContents serving) {
      this.backend = backend;
      this.serving = serving;
    }
  }

  private CaReload(Vertx vertx, Duration handshakeTimeout,
      List<Watched> watched, BiConsumer<String, ClientSSLOptions> use,
      Consumer<Boolean> outcome) {
    this.vertx = vertx;
    this.handshakeTimeout = handshakeTimeout;
    this.watched = watched;
    this.use = use;
    this.outcome = outcome;
  }

  /**
   * Starts watching the CA file of every verified backend that names one; {@code inUse} are the
   * options built at start (their bytes are what the files are compared with). {@code use}
   * gets a backend's new options; {@code outcome} hears true (applied) or false (refused).
   * Null when no backend has a CA file.
   */
  public static CaReload start(Vertx vertx, Collection<BackendConfig> backends,
      Map<String, ClientSSLOptions> inUse, Duration handshakeTimeout, Duration interval,
      BiConsumer<String, ClientSSLOptions> use, Consumer<Boolean> outcome) {
    List<Watched> watched = new ArrayList<>();
    for (BackendConfig backend : backends) {
      byte[] bytes = BackendTls.trusted(inUse.get(backend.name()));
      if (backend.tlsVerify() && backend.ca() != null && bytes != null) {
        watched.add(new Watched(backend, FileContents.of(Map.of(backend.ca(), bytes))));
      }
    }
    if (watched.isEmpty()) {
      return null;
    }
    CaReload reload = new CaReload(vertx, handshakeTimeout, watched, use, outcome);
    reload.looks = new RepeatingLook(vertx, interval, reload::lookNow).start();
    return reload;
  }

  public void stop() {
    looks.stop();
  }


  /** One look at every CA file now (on a worker thread); completes with how many were applied. */
  public Future<Integer> lookNow() {
    return vertx.executeBlocking(() -> {
      int applied = 0;
      for (Watched w : watched) {
        applied += look(w) ? 1 : 0;
      }
      return applied;
    }, false);
  }

  private boolean look(Watched w) {
    Optional<FileContents> change = w.watcher.look(w.serving);
    if (change.isEmpty()) {
      return false;
    }
    Path file = w.backend.ca();
    try {
      ClientSSLOptions options = BackendTls.options(w.backend, handshakeTimeout,
          change.get().bytes(file));
      w.serving = change.get();
      use.accept(w.backend.name(), options);
      outcome.accept(true);
      LOG.info("tls: CA file {} of backend '{}' reloaded, new backend connections trust it",
          file, w.backend.name());
      return true;
    } catch (CertificatePair.CertificateProblem e) {
      w.watcher.refused(change.get());
      outcome.accept(false);
      LOG.warn("tls: changed CA file of backend '{}' refused, the CAs in use stay: {}",
          w.backend.name(), e.getMessage());
      return false;
    }
  }
}
