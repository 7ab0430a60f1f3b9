package io.postern.session;

import io.postern.auth.ClientCertificate;
import io.postern.config.ClientCertificateConfig.UserMatch;
import java.util.Locale;

/**
 * A listener's {@code client-certificate-user}: the user a verified client certificate names
 * (its CN, or its email address), which every login with that certificate must be, and which
 * EXTERNAL logs in as. A certificate without the field names nobody: there is no fallback to
 * the name the client typed (Dovecot's CVE-2019-3814).
 */
final class CertificateUser {

  private CertificateUser() {}

  /** The user {@code certificate} names under {@code match}, or null. */
  static String of(UserMatch match, ClientCertificate certificate) {
    if (certificate == null || !certificate.verified()) {
      return null;
    }
    return switch (match) {
      case CN -> certificate.commonName();
      case EMAIL -> certificate.emails().isEmpty() ? null : certificate.emails().get(0);
      case NONE -> null;
    };
  }

  /**
   * Null if {@code user} may log in with {@code certificate}; else why not, for the log. A
   * session without a certificate (an optional one not sent) is not held to one; one whose
   * certificate did not verify is refused.
   */
  static String mismatch(UserMatch match, ClientCertificate certificate, String user) {
    if (match == UserMatch.NONE || certificate == null || certificate.subject() == null) {
      return null;
    }
    if (!certificate.verified()) {
      return "client certificate did not verify (" + certificate.verify() + ")";
    }
    if (match == UserMatch.CN) {
      String cn = certificate.commonName();
      if (cn == null) {
        return "client certificate " + certificate.subject() + " has no CN to match the user";
      }
      return cn.equals(user) ? null
          : "client certificate CN '" + cn + "' is not the user";
    }
    if (certificate.emails().isEmpty()) {
      return "client certificate " + certificate.subject() + " has no email address to match"
          + " the user";
    }
    for (String email : certificate.emails()) {
      // The domain part is case-insensitive, and mail systems treat the local part so too.
      if (email.toLowerCase(Locale.ROOT).equals(user.toLowerCase(Locale.ROOT))) {
        return null;
      }
    }
    return "client certificate email " + certificate.emails() + " is not the user";
  }
}
