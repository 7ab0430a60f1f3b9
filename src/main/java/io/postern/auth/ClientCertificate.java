package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * The client certificate of a TLS session, as nginx tells its auth service about it: {@code
 * verify} is {@code SUCCESS}, {@code NONE} or {@code FAILED:reason}; subject and issuer are
 * RFC 2253 strings as OpenSSL prints them (non-ASCII and control bytes as {@code \XX}, so never
 * a line break); serial is upper-case hex; fingerprint is the SHA-1 of the DER certificate in
 * lower-case hex without colons (nginx's {@code $ssl_client_fingerprint}). {@code commonName}
 * and {@code emails} are what a listener may match against the user; they are null or empty
 * unless the certificate verified.
 */
public record ClientCertificate(String verify, String subject, String issuer, String serial,
    String fingerprint, String commonName, List<String> emails) {

  public static final String SUCCESS = "SUCCESS";
  /** A TLS session without a certificate, on a listener that asks for one. */
  public static final ClientCertificate NONE =
      new ClientCertificate("NONE", null, null, null, null, null, List.of());

  private static final String EMAIL_OID = "1.2.840.113549.1.9.1";
  private static final Map<String, String> OPENSSL_NAMES = Map.of(
      EMAIL_OID, "emailAddress",
      "2.5.4.5", "serialNumber",
      "2.5.4.12", "title",
      "2.5.4.42", "GN",
      "2.5.4.4", "SN",
      "0.9.2342.19200300.100.1.25", "DC",
      "0.9.2342.19200300.100.1.1", "UID");
  private static final int RFC822_NAME = 1;

  public ClientCertificate {
    emails = emails == null ? List.of() : List.copyOf(emails);
  }

  /** Whether the certificate verified against the listener's CAs: only then is it an identity. */
  public boolean verified() {
    return SUCCESS.equals(verify);
  }

  /**
   * {@code leaf}'s details; {@code failure} is null when its chain verified, else why not (the
   * certificate then names nobody: no common name, no email).
   */
  public static ClientCertificate of(X509Certificate leaf, String failure) {
    boolean ok = failure == null;
    String subject = rfc2253(leaf.getSubjectX500Principal());
    return new ClientCertificate(ok ? SUCCESS : "FAILED:" + printable(failure),
        subject, rfc2253(leaf.getIssuerX500Principal()),
        serial(leaf), fingerprint(leaf),
        ok ? attribute(leaf.getSubjectX500Principal(), "CN") : null,
        ok ? emails(leaf) : List.of());
  }

  /**
   * The name as OpenSSL's {@code XN_FLAG_RFC2253} prints it (nginx's {@code $ssl_client_s_dn}):
   * the most specific RDN first, OpenSSL's short names, RFC 2253 escapes, and every byte that is
   * not printable ASCII as {@code \XX}.
   */
  static String rfc2253(X500Principal name) {
    String java = name.getName(X500Principal.RFC2253, OPENSSL_NAMES);
    StringBuilder out = new StringBuilder(java.length());
    for (byte b : java.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c < 0x20 || c >= 0x7f) {
        out.append('\\').append(HexFormat.of().withUpperCase().toHexDigits((byte) c));
      } else {
        out.append((char) c);
      }
    }
    return out.toString();
  }

  /** Only printable ASCII: a reason goes into a header and a log line. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < 200; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c >= 0x7f ? ' ' : c);
    }
    return out.toString();
  }

  /** As OpenSSL's {@code i2a_ASN1_INTEGER} (nginx's {@code $ssl_client_serial}): whole bytes. */
  private static String serial(X509Certificate leaf) {
    String hex = leaf.getSerialNumber().abs().toString(16).toUpperCase(Locale.ROOT);
    return hex.length() % 2 == 0 ? hex : "0" + hex;
  }

  private static String fingerprint(X509Certificate leaf) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(
          leaf.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint a certificate the engine accepted", e);
    }
  }

  /** The value of {@code type} in the most specific RDN that has one, or null. */
  private static String attribute(X500Principal name, String type) {
    try {
      List<Rdn> rdns = new LdapName(name.getName(X500Principal.RFC2253, OPENSSL_NAMES)).getRdns();
      // LdapName lists the RDNs from the least specific; the last CN is the subject's own.
      for (int i = rdns.size() - 1; i >= 0; i--) {
        Rdn rdn = rdns.get(i);
        if (rdn.getType().equalsIgnoreCase(type) && rdn.getValue() instanceof String s) {
          return s;
        }
      }
      return null;
    } catch (InvalidNameException e) {
      return null;
    }
  }

  /** The subject's emailAddress attributes, then the rfc822Name subject alternative names. */
  private static List<String> emails(X509Certificate leaf) {
    List<String> out = new ArrayList<>();
    String address = attribute(leaf.getSubjectX500Principal(), "emailAddress");
    if (address != null) {
      out.add(address);
    }
    try {
      if (leaf.getSubjectAlternativeNames() != null) {
        for (List<?> san : leaf.getSubjectAlternativeNames()) {
          if (san.size() == 2 && Integer.valueOf(RFC822_NAME).equals(san.get(0))
              && san.get(1) instanceof String s) {
            out.add(s);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // Unreadable alternative names name nobody.
    }
    return out;
  }
}
