package io.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Where users are checked, and the rules around login attempts. */
public record AuthConfig(
    Source source,
    Path passwdFile,
    Http http,
    Cleartext cleartext,
    Duration failureDelay,
    int maxAttempts,
    Cache cache) {

  /** The auth source. */
  public enum Source {
    PASSWD_FILE,
    HTTP
  }

  /** Whether a password may cross a connection that is not (yet) TLS. */
  public enum Cleartext {
    TLS_ONLY,
    ALLOW
  }

  /** nginx {@code auth_http} compatible service. */
  public record Http(List<String> urls, Duration timeout, Map<String, String> headers) {
    public Http {
      urls = List.copyOf(urls);
      headers = Map.copyOf(headers);
    }
  }

  /** Cache of auth answers. */
  public record Cache(Duration ttl, Duration negativeTtl, long maxEntries) {}
}
