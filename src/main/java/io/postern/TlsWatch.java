package io.postern;

import io.postern.backend.BackendPools;
import io.postern.config.PosternConfig;
import io.postern.metrics.PosternMeters;
import io.postern.tls.CaReload;
import io.postern.tls.CertificateReload;
import io.postern.tls.CurrentTls;
import io.postern.tls.ServerTls;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The TLS material in use and what keeps it current: the certificate watcher (renewals on disk),
 * the backends' CA watcher, the expiry gauges, and a configuration reload's new {@code tls} or
 * {@code backends}. The {@link CurrentTls} holder lives as long as the process, so that every
 * listener, whatever configuration it began with, serves what is current.
 */
final class TlsWatch {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TlsWatch.class);

  private final Vertx vertx;
  private final PosternMeters meters;
  private CurrentTls tls;
  private CertificateReload certificates;
  private CaReload cas;

  private TlsWatch(Vertx vertx, PosternMeters meters) {
    this.vertx = vertx;
    this.meters = meters;
  }

  /** Starts watching what {@code resources} loaded; {@code tls} is the listeners' holder. */
  static TlsWatch start(Vertx vertx, PosternServer.Resources resources, CurrentTls tls,
      BackendPools pools, PosternMeters meters) {
    TlsWatch watch = new TlsWatch(vertx, meters);
    if (tls != null) {
      LOG.info("tls: {}", tls.get().describe());
      watch.watchCertificates(tls, resources.config());
    }
    watch.watchCas(resources, pools);
    return watch;
  }

  /** The holder listeners read, or null while no listener uses TLS. */
  synchronized CurrentTls tls() {
    return tls;
  }

  private void watchCertificates(CurrentTls holder, PosternConfig config) {
    tls = holder;
    // The expiry gauges follow every certificate put in use (a renewal, a reload).
    served(holder.get());
    holder.follow("expiry gauges", next -> {
      served(next);
      return Future.succeededFuture();
    });
    certificates = CertificateReload.start(vertx, holder, config.tls().watchInterval(), meters);
  }

  private void watchCas(PosternServer.Resources resources, BackendPools pools) {
    PosternConfig config = resources.config();
    cas = CaReload.start(vertx, config.backends().values(), resources.backendTls(),
        config.limits().backendLoginTimeout(), config.tls().watchInterval(), pools::useTls,
        meters::tlsReload);
  }

  /**
   * A reloaded configuration: its certificates put in use on every listener when {@code tls}
   * changed (and the watcher restarted when its interval did), the CA watcher restarted for new
   * {@code pools}. Says what it did in {@code changes}.
   */
  synchronized Future<Void> reload(PosternServer.Resources before, PosternServer.Resources next,
      BackendPools pools, boolean newPools, List<String> changes) {
    Future<Void> done = Future.succeededFuture();
    PosternConfig was = before.config();
    PosternConfig now = next.config();
    if (next.tls() != null && tls == null) {
      // The first TLS listener: until now nothing was loaded from tls.certificates.
      changes.add("TLS certificates loaded");
      watchCertificates(new CurrentTls(next.tls()), now);
    } else if (next.tls() != null && (!now.tls().equals(was.tls())
        || before.tls() == null || !next.tls().clientTrust().equals(before.tls().clientTrust()))) {
      changes.add("TLS certificates loaded");
      done = tls.replace(next.tls());
      if (!now.tls().watchInterval().equals(was.tls().watchInterval())) {
        certificates.stop();
        certificates = CertificateReload.start(vertx, tls, now.tls().watchInterval(), meters);
      }
    }
    if (newPools || !now.tls().watchInterval().equals(was.tls().watchInterval())) {
      if (cas != null) {
        cas.stop();
      }
      watchCas(next, pools);
    }
    return done;
  }

  synchronized void stop() {
    if (certificates != null) {
      certificates.stop();
    }
    if (cas != null) {
      cas.stop();
    }
  }

  /** The certificate watcher, or null when no listener uses TLS. */
  synchronized CertificateReload certificates() {
    return certificates;
  }

  /** The backends' CA file watcher, or null when no backend names a CA file. */
  synchronized CaReload cas() {
    return cas;
  }

  private void served(ServerTls served) {
    Map<String, Instant> notAfter = new HashMap<>();
    served.certificates().forEach(p -> notAfter.put(p.files().cert().toString(), p.notAfter()));
    meters.certificatesServed(notAfter);
  }
}
