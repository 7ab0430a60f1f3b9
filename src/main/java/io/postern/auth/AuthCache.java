package io.postern.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.postern.config.AuthConfig;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Remembers an auth source's answers: yes for {@code ttl}, no for {@code negative-ttl}, at most
 * {@code max-entries} of them. The key is an HMAC of protocol, kind of secret (password or the
 * token's mechanism), user, password or token, client address and TLS protocol and cipher
 * under a key made at start-up, so the cache holds no client's
 * password; a cached yes that hands the client's own password to the backend stores "the
 * client's password" instead of it. A yes that names another backend password (the service's
 * {@code Auth-Pass}, a passwd-file {@code pass=}) keeps that one until it expires, as the
 * source's answer held it. A different password is a different key: a wrong one never finds a
 * right one's answer. A yes for credentials that end (a token's {@code exp}, in
 * {@link AuthResult.Accepted#validUntil()}) is kept no longer than they last.
 */
public final class AuthCache implements Authenticator {

  /**
   * Where each lookup is reported (metrics), as plain callbacks: {@code answered} gets the
   * source's time in nanoseconds, cache or not.
   */
  public record Counters(Runnable hit, Runnable miss, LongConsumer answered) {}

  /**
   * What is kept: the answer, with the backend password left out when it is the client's, and
   * the generation it was asked in.
   */
  private record Entry(AuthResult result, boolean clientPassword, long generation,
      long lifetime) {}

  private final Authenticator source;
  private final Cache<Key, Entry> entries;
  private final Counters counters;
  private final byte[] key = new byte[32];
  private final AtomicLong generation = new AtomicLong();

  public AuthCache(Authenticator source, AuthConfig.Cache config, Counters counters) {
    this.source = source;
    this.counters = counters;
    new SecureRandom().nextBytes(key);
    long positive = config.ttl().toNanos();
    long negative = config.negativeTtl().toNanos();
    this.entries = config.maxEntries() == 0 ? null : Caffeine.newBuilder()
        .maximumSize(config.maxEntries())
        .expireAfter(Expiry.<Key, Entry>creating((k, e) -> Duration.ofNanos(
            e.result() instanceof AuthResult.Accepted ? Math.min(positive, e.lifetime())
                : negative)))
        .build();
    // A changed passwd-file must be seen at once, not after the TTL.
    source.onChange(this::clear);
  }

  @Override
  public String source() {
    return source.source();
  }

  @Override
  public boolean decidesExternal() {
    return source.decidesExternal();
  }

  @Override
  public Future<Void> ready() {
    return source.ready();
  }

  @Override
  public boolean checksPasswords() {
    return source.checksPasswords();
  }

  @Override
  public boolean verifiesTokens() {
    return source.verifiesTokens();
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    // Not EXTERNAL: it has no password to key the answer by. A client certificate is part of
    // the key, as the answer may rest on it (the Auth-SSL-* headers).
    Key k = entries == null || request.external() ? null : key(request);
    long generation = this.generation.get();
    Entry cached = k == null ? null : entries.getIfPresent(k);
    if (cached != null && cached.generation() != generation) {
      // Asked before a clear() and stored after it: not an answer for now.
      entries.asMap().remove(k, cached);
      cached = null;
    }
    if (cached != null) {
      counters.hit().run();
      return Future.succeededFuture(restore(cached, request));
    }
    long asked = System.nanoTime();
    if (k != null) {
      counters.miss().run();
    }
    return source.authenticate(request).andThen(ar -> {
      counters.answered().accept(System.nanoTime() - asked);
      // An answer asked for before a change (a re-read passwd-file) is not used after it:
      // stored with its generation, it is dropped when read.
      if (k != null && ar.succeeded()) {
        remember(k, ar.result(), request, generation);
      }
    });
  }

  /** Not cached: master logins, its only users, are rare, and each must see the user as now. */
  @Override
  public Future<AuthResult> lookup(AuthRequest request) {
    return source.lookup(request);
  }

  /** Forgets every answer, e.g. when the passwd-file has changed. */
  public void clear() {
    generation.incrementAndGet();
    if (entries != null) {
      entries.invalidateAll();
    }
  }

  @Override
  public Future<Void> close() {
    clear();
    return source.close();
  }

  private void remember(Key k, AuthResult result, AuthRequest request, long generation) {
    if (result instanceof AuthResult.Accepted a) {
      // A token is not served from the cache past its expiry: the source's word for it, else
      // what a JWT claims (which can only make the entry shorter-lived).
      Instant until = a.validUntil() != null || !request.bearerToken() ? a.validUntil()
          : TokenExpiry.claimed(request.credentials().password());
      Duration left = until == null ? null : Duration.between(Instant.now(), until);
      // Saturated: an exp centuries away does not overflow the nanoseconds.
      long lifetime = left == null || left.getSeconds() >= Long.MAX_VALUE / 1_000_000_000L
          ? Long.MAX_VALUE : left.toNanos();
      if (lifetime <= 0) {
        return;
      }
      boolean same = a.backendPassword().equals(request.credentials().password());
      entries.put(k, new Entry(same ? a.withPassword(null) : a, same, generation, lifetime));
    } else if (result instanceof AuthResult.Rejected) {
      entries.put(k, new Entry(result, false, generation, 0));
    }
    // Unavailable is never remembered: the next login asks again.
  }

  private static AuthResult restore(Entry e, AuthRequest request) {
    if (e.clientPassword() && e.result() instanceof AuthResult.Accepted a) {
      return a.withPassword(request.credentials().password());
    }
    return e.result();
  }

  private Key key(AuthRequest request) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      byte[] user = request.credentials().user().getBytes(StandardCharsets.UTF_8);
      byte[] password = request.credentials().password().bytes();
      // The client's address and TLS too: a service may answer per address (allow lists,
      // lockouts) or refuse logins without TLS or with an old protocol.
      byte[] client = request.clientIp().getBytes(StandardCharsets.US_ASCII);
      byte[] tls = (request.secured() ? request.tlsProtocol() + " " + request.tlsCipher() : "")
          .getBytes(StandardCharsets.US_ASCII);
      ClientCertificate c = request.clientCertificate();
      byte[] certificate = (c == null ? "" : c.verify() + " " + c.fingerprint())
          .getBytes(StandardCharsets.UTF_8);
      // Lengths first, so that no two different requests give the same input.
      // The kind of secret too: a token is never taken for a password of the same bytes.
      mac.update(ByteBuffer.allocate(22).put((byte) request.protocol().ordinal())
          .put((byte) request.secretMechanism().ordinal())
          .putInt(user.length).putInt(password.length).putInt(client.length)
          .putInt(tls.length).putInt(certificate.length).array());
      mac.update(user);
      mac.update(password);
      mac.update(client);
      mac.update(tls);
      mac.update(certificate);
      Arrays.fill(password, (byte) 0);
      return new Key(mac.doFinal());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  /** An HMAC, compared by value. */
  private record Key(byte[] mac) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(mac, k.mac);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(mac);
    }
  }
}
