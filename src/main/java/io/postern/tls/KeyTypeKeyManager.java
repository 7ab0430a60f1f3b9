package io.postern.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Picks the certificate for one handshake, by the name the client asks for (SNI) and then by
 * key type: pairs whose certificates carry the same names form a group, and a client that can
 * verify an ECDSA signature with the group's EC key gets that one (a P-256 signature costs far
 * less than an RSA-2048 one); any other client gets the group's RSA pair. Without a name, or
 * with one no certificate carries, the group of the first pair answers.
 *
 * <p>Both engines ask through {@link #chooseEngineServerAlias}, once per key type they could
 * use, until one gets an alias. OpenSSL (Netty's {@code OpenSslKeyMaterialManager}) asks in the
 * order of the server's TLS 1.2 suites, ECDSA first, for TLS 1.3 as well, so an EC pair must be
 * refused to a client that cannot verify it. The JDK asks, for TLS 1.3, in the order of the
 * client's signature schemes, so an RSA pair is refused while the same client can take the EC
 * one, which the JDK asks for next; for TLS 1.2 it asks in the server's suite order.
 */
final class KeyTypeKeyManager extends X509ExtendedKeyManager {

  /** One pair: its alias is its index, stable for the life of this manager. */
  private record Entry(String alias, PrivateKey key, X509Certificate[] chain, Set<String> names,
      String keyType, String ecdsaHash) {

    /** Never the key: some providers print private material in theirs. */
    @Override
    public String toString() {
      return "Entry[alias=" + alias + ", keyType=" + keyType + ", names=" + names + "]";
    }
  }

  private final List<Entry> entries;

  KeyTypeKeyManager(List<CertificatePair> pairs, List<PrivateKey> keys) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      CertificatePair pair = pairs.get(i);
      PrivateKey key = keys.get(i);
      out.add(new Entry(Integer.toString(i), key,
          pair.chain().toArray(X509Certificate[]::new), names(pair.leaf()),
          key.getAlgorithm(), ecdsaHash(key)));
    }
    this.entries = List.copyOf(out);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    SSLSession session = engine == null ? null : engine.getHandshakeSession();
    return choose(keyType, serverName(session), peerSignatureAlgorithms(session),
        session == null ? null : session.getProtocol());
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return choose(keyType, null, List.of(), null);
  }

  /**
   * The alias for a handshake asking for {@code keyType}, with the client's server name (null:
   * none), its signature algorithms (Java names, e.g. SHA256withECDSA; empty: unknown) and the
   * protocol version (null: unknown).
   */
  String choose(String keyType, String serverName, List<String> peerAlgorithms,
      String protocol) {
    List<Entry> group = group(serverName);
    Entry ec = group.stream().filter(e -> e.ecdsaHash() != null).findFirst().orElse(null);
    boolean mixed = ec != null && group.stream().anyMatch(e -> e.ecdsaHash() == null);
    boolean clientTakesEc = ec != null && verifiesEcdsa(peerAlgorithms, ec.ecdsaHash());
    for (Entry e : group) {
      if (!e.keyType().equals(keyType)) {
        continue;
      }
      if (!mixed) {
        return e.alias(); // one key type for these names: as without this manager
      }
      if (e == ec && clientTakesEc) {
        return e.alias();
      }
      if (e.ecdsaHash() == null && !(clientTakesEc && "TLSv1.3".equals(protocol))) {
        return e.alias();
      }
    }
    return null;
  }

  /** The pairs for {@code serverName}: exact names first, then a wildcard, else the default. */
  private List<Entry> group(String serverName) {
    if (serverName != null) {
      String name = serverName.toLowerCase(Locale.ROOT);
      List<Entry> exact = entries.stream().filter(e -> e.names().contains(name)).toList();
      if (!exact.isEmpty()) {
        return exact;
      }
      int dot = name.indexOf('.');
      if (dot > 0) {
        String wildcard = "*" + name.substring(dot);
        List<Entry> matching =
            entries.stream().filter(e -> e.names().contains(wildcard)).toList();
        if (!matching.isEmpty()) {
          return matching;
        }
      }
    }
    Set<String> first = entries.get(0).names();
    return entries.stream().filter(e -> e.names().equals(first)).toList();
  }

  /**
   * Whether the client offered ECDSA with the hash a TLS 1.3 signature with this curve needs
   * (ecdsa_secp256r1_sha256 for P-256). The JDK says "SHA256withECDSA"; Netty converts
   * BoringSSL's names, so the test is lenient about the spelling.
   */
  static boolean verifiesEcdsa(List<String> peerAlgorithms, String hash) {
    for (String alg : peerAlgorithms) {
      String a = alg.toUpperCase(Locale.ROOT);
      if (a.contains("ECDSA") && a.contains(hash)) {
        return true;
      }
    }
    return false;
  }

  private static String serverName(SSLSession session) {
    if (session instanceof ExtendedSSLSession extended) {
      for (SNIServerName name : extended.getRequestedServerNames()) {
        if (name instanceof SNIHostName host) {
          return host.getAsciiName();
        }
        if (name.getType() == 0) {
          return new SNIHostName(name.getEncoded()).getAsciiName();
        }
      }
    }
    return null;
  }

  private static List<String> peerSignatureAlgorithms(SSLSession session) {
    if (session instanceof ExtendedSSLSession extended) {
      String[] algs = extended.getPeerSupportedSignatureAlgorithms();
      return algs == null ? List.of() : List.of(algs);
    }
    return List.of();
  }

  /** The hash a TLS 1.3 ECDSA signature with this key's curve uses; null for other keys. */
  private static String ecdsaHash(PrivateKey key) {
    if (!(key instanceof ECKey ec)) {
      return null;
    }
    int bits = ec.getParams().getCurve().getField().getFieldSize();
    return bits <= 256 ? "SHA256" : bits <= 384 ? "SHA384" : "SHA512";
  }

  /** DNS names (lower case) of the leaf, or its CN when it has none, as Vert.x matched them. */
  static Set<String> names(X509Certificate leaf) {
    Set<String> names = new TreeSet<>();
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (san.size() == 2 && san.get(0) instanceof Integer type && type == 2) {
            names.add(san.get(1).toString().toLowerCase(Locale.ROOT));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // No usable SANs: the CN below.
    }
    String dn = leaf.getSubjectX500Principal().getName();
    for (String rdn : dn.split(",")) {
      if (rdn.startsWith("CN=")) {
        names.add(rdn.substring(3).toLowerCase(Locale.ROOT));
      }
    }
    return names;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return entries.stream().filter(e -> e.keyType().equals(keyType)).map(Entry::alias)
        .toArray(String[]::new);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Entry e = entry(alias);
    return e == null ? null : e.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Entry e = entry(alias);
    return e == null ? null : e.key();
  }

  private Entry entry(String alias) {
    for (Entry e : entries) {
      if (e.alias().equals(alias)) {
        return e;
      }
    }
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null; // a server's manager: Postern presents no client certificate with it
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers,
      SSLEngine engine) {
    return null;
  }
}
