package io.postern.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * A real Dovecot whose {@code oauth2} passdb checks every XOAUTH2/OAUTHBEARER token by asking an
 * RFC 7662 endpoint ({@code introspection_mode = post}, {@code force_introspection = yes}); the
 * answer's {@code username} must be the user logging in and {@code active} must be true.
 * Passwords of {@code users} still work with PLAIN and LOGIN.
 */
final class OAuth2Dovecot {

  private OAuth2Dovecot() {}

  static DovecotServer start(Path dir, String introspectionUrl, Map<String, String> users)
      throws Exception {
    Path oauth2 = Files.createDirectories(dir.resolve("oauth2"));
    Path settings = oauth2.resolve("dovecot-oauth2.conf.ext");
    Files.writeString(settings, """
        introspection_mode = post
        introspection_url = %s
        force_introspection = yes
        username_attribute = username
        active_attribute = active
        active_value = true
        timeout_msecs = 10000
        """.formatted(introspectionUrl));
    // Dovecot's auth process runs as its own user: it must reach and read the file.
    Files.setPosixFilePermissions(oauth2, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(settings, PosixFilePermissions.fromString("rw-r--r--"));
    return DovecotServer.start(dir.resolve("dovecot"), users, """

        auth_mechanisms = plain login xoauth2 oauthbearer
        passdb {
          driver = oauth2
          mechanisms = xoauth2 oauthbearer
          args = %s
        }
        """.formatted(settings));
  }
}
