package io.postern.tls;

import java.util.List;
import java.util.Set;

/** Protocol versions and cipher suites: Mozilla's "intermediate" profile, which mail clients need. */
public final class TlsDefaults {

  /** TLS 1.2 and 1.3 only (RFC 8997); TLS 1.3 suites first, then ECDHE with AEAD for TLS 1.2. */
  public static final List<String> CIPHER_SUITES = List.of(
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  public static final Set<String> BACKEND_PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  private TlsDefaults() {}
}
