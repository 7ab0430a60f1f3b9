package io.postern.tls;

import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.KeyManagerFactorySpi;
import javax.net.ssl.ManagerFactoryParameters;

/**
 * The server certificates as Vert.x takes them: one {@link KeyTypeKeyManager} that picks by SNI
 * and key type, so every listener has one TLS context (no per-name contexts, one set of session
 * ticket keys). Equal by the bytes of the files, which is what makes Vert.x build a new context
 * when a certificate is renewed and reuse the one it has otherwise.
 */
final class ServerKeys implements KeyCertOptions {

  private final List<CertificatePair> pairs;

  ServerKeys(List<CertificatePair> pairs) {
    this.pairs = List.copyOf(pairs);
  }

  @Override
  public KeyCertOptions copy() {
    return this; // immutable
  }

  @Override
  public KeyManagerFactory getKeyManagerFactory(Vertx vertx) throws Exception {
    List<PrivateKey> keys = new ArrayList<>();
    for (CertificatePair pair : pairs) {
      keys.add(ServerTls.privateKey(vertx, pair));
    }
    return new Factory(new KeyTypeKeyManager(pairs, keys));
  }

  @Override
  public Function<String, KeyManagerFactory> keyManagerFactoryMapper(Vertx vertx) {
    return name -> null; // the manager itself picks by name
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ServerKeys other) || other.pairs.size() != pairs.size()) {
      return false;
    }
    for (int i = 0; i < pairs.size(); i++) {
      CertificatePair a = pairs.get(i);
      CertificatePair b = other.pairs.get(i);
      if (!a.files().equals(b.files()) || !Arrays.equals(a.certPem(), b.certPem())
          || !Arrays.equals(a.keyPem(), b.keyPem())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (CertificatePair pair : pairs) {
      h = 31 * h + Arrays.hashCode(pair.certPem());
    }
    return h;
  }

  /** A factory handing out one manager. */
  private static final class Factory extends KeyManagerFactory {
    Factory(KeyManager manager) {
      super(new KeyManagerFactorySpi() {
        @Override
        protected void engineInit(KeyStore ks, char[] password) {}

        @Override
        protected void engineInit(ManagerFactoryParameters spec) {}

        @Override
        protected KeyManager[] engineGetKeyManagers() {
          return new KeyManager[] {manager};
        }
      }, null, "postern");
    }
  }
}
