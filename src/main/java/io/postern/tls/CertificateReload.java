package io.postern.tls;

import io.postern.config.CertificateFiles;
import io.postern.metrics.PosternMeters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks at the files of the certificates (and session ticket keys) in use every
 * {@code tls.watch-interval}, on a worker
 * thread, and puts a changed pair in use on every listener ({@link CurrentTls#replace}) once the
 * files have settled ({@link CertificateWatcher}). A pair that cannot be used is refused with
 * one WARN line naming the file, and the certificates in use stay. It always watches the files
 * of the certificates in use, so a configuration reload that names other files is followed
 * without a restart.
 */
public final class CertificateReload {

  private static final Logger LOG = LoggerFactory.getLogger(CertificateReload.class);

  private final Vertx vertx;
  private final CurrentTls tls;
  private final PosternMeters meters;
  private final CertificateWatcher watcher = new CertificateWatcher();
  private RepeatingLook looks;

  /** What one look found: new settings to put in use, or why the files cannot be used. */
  /** {@code problem}: why changed certificates were refused; {@code dropped}: ticket files. */
  private record Attempt(FileContents contents, ServerTls next, String problem,
      List<CertificatePair> changed, boolean ticketKeysChanged, List<String> dropped) {}

  private CertificateReload(Vertx vertx, CurrentTls tls, PosternMeters meters) {
    this.vertx = vertx;
    this.tls = tls;
    this.meters = meters;
  }

  /** Starts looking every {@code interval}; the first look is one interval from now. */
  public static CertificateReload start(Vertx vertx, CurrentTls tls, Duration interval,
      PosternMeters meters) {
    CertificateReload reload = new CertificateReload(vertx, tls, meters);
    reload.looks = new RepeatingLook(vertx, interval, reload::lookNow).start();
    return reload;
  }

  /** Stops looking; a look under way finishes. */
  public void stop() {
    looks.stop();
  }


  /**
   * One look now: reads the files on a worker thread and applies or refuses what changed.
   * Completes with whether new certificates were put in use.
   */
  public Future<Boolean> lookNow() {
    ServerTls serving = tls.get();
    return vertx.executeBlocking(() -> attempt(serving), false)
        .compose(attempt -> attempt == null ? Future.succeededFuture(false)
            : apply(serving, attempt))
        .recover(e -> {
          LOG.warn("tls: looking at the certificate files failed: {}", e.toString());
          return Future.succeededFuture(false);
        });
  }

  /** Blocking: reads the files and, if they settled on new contents, builds what they hold. */
  private Attempt attempt(ServerTls serving) {
    FileContents in = served(serving);
    Optional<FileContents> change = watcher.look(in);
    if (change.isEmpty()) {
      return null;
    }
    FileContents contents = change.get();
    List<Path> touched = contents.changedSince(in);
    // Certificates and ticket keys are applied each on its own: a broken ticket file must not
    // hold back a renewed certificate (it would expire), nor a broken certificate a rotation.
    ServerTls next = serving;
    String problem = null;
    List<CertificatePair> changed = new ArrayList<>();
    try {
      List<CertificatePair> pairs = new ArrayList<>();
      for (CertificatePair old : serving.certificates()) {
        CertificateFiles files = old.files();
        CertificatePair pair = ServerTls.checkKey(vertx, CertificatePair.parse(files,
            contents.bytes(files.cert()), contents.bytes(files.key())));
        pairs.add(pair);
        if (touched.contains(files.cert()) || touched.contains(files.key())) {
          changed.add(pair);
        }
      }
      if (!changed.isEmpty()) {
        next = serving.withCertificates(pairs);
      }
    } catch (CertificatePair.CertificateProblem e) {
      problem = e.getMessage();
      changed = List.of();
    }
    java.util.Set<Path> ticketFiles = serving.ticketKeys().source().files();
    boolean ticketKeysChanged = ticketFiles.stream().anyMatch(touched::contains);
    List<String> dropped = new ArrayList<>();
    if (ticketKeysChanged) {
      next = next.withTicketKeys(SessionTicketKeys.usable(contents.only(ticketFiles), dropped));
    }
    return new Attempt(contents, next, problem, changed, ticketKeysChanged, dropped);
  }

  private Future<Boolean> apply(ServerTls serving, Attempt attempt) {
    if (attempt.problem() != null) {
      refuse(attempt.contents(), attempt.problem());
    }
    attempt.dropped().forEach(why -> LOG.warn("tls: a session ticket key is dropped, the tickets"
        + " it encrypted no longer resume: {}", why));
    if (attempt.next() == serving) {
      return Future.succeededFuture(false);
    }
    return tls.replaceIf(serving, attempt.next())
        .andThen(ar -> {
          if (ar.failed()) {
            // What Vert.x or the engine said; it names no key material, but the class is enough.
            refuse(attempt.contents(), "a listener could not use them ("
                + ar.cause().getClass().getSimpleName() + ")");
          } else if (ar.result()) {
            meters.tlsReload(true);
            if (!attempt.changed().isEmpty()) {
              LOG.info("tls: certificates reloaded, new handshakes use {}",
                  attempt.changed().stream().map(CertificateReload::describe)
                      .collect(Collectors.joining(", ")));
            }
            if (attempt.ticketKeysChanged()) {
              // The files, never the bytes.
              SessionTicketKeys keys = attempt.next().ticketKeys();
              if (keys.isEmpty()) {
                LOG.warn("tls: no usable session ticket key file is left; tickets now use this"
                    + " process's own key and resume on this instance only");
              } else {
                LOG.info("tls: session ticket keys reloaded, new tickets are encrypted with {},"
                    + " tickets of {} still resume", keys.files().get(0), keys.files());
              }
            }
            Instant now = Instant.now();
            attempt.changed().forEach(p -> p.expiryProblem(now)
                .ifPresent(problem -> LOG.warn("tls: {}", problem)));
          }
        })
        .recover(e -> Future.succeededFuture(false));
  }

  private void refuse(FileContents contents, String problem) {
    watcher.refused(contents);
    meters.tlsReload(false);
    LOG.warn("tls: changed certificate files refused, the certificates in use stay: {}", problem);
  }

  private static String describe(CertificatePair pair) {
    return pair.files().cert() + " (serial " + pair.serial() + ", subject " + pair.subject()
        + ", not after " + pair.notAfter() + ")";
  }

  /** The bytes being served, by file: what the files are compared with. */
  static FileContents served(ServerTls tls) {
    Map<Path, byte[]> bytes = new LinkedHashMap<>();
    for (CertificatePair pair : tls.certificates()) {
      bytes.put(pair.files().cert(), pair.certPem());
      bytes.put(pair.files().key(), pair.keyPem());
    }
    return FileContents.of(bytes).with(tls.ticketKeys().source());
  }
}
