package io.postern.it.soak;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code curl -v} wrote about its login: the commands it sent ({@code > }) and the answers
 * it got ({@code < }). curl's exit code says "login denied" for every refusal alike; the
 * transcript tells a wrong password from a temporary refusal, and a login that was answered from
 * one that never was, which the metrics comparison needs.
 *
 * @param logins login commands answered OK, refused, or not answered
 * @param refusal the last refusal line, e.g. {@code A002 NO [UNAVAILABLE] ...}, or null
 * @param exists the last {@code * N EXISTS} after SELECT (IMAP), or -1
 */
record CurlTranscript(Attempt.Logins logins, String refusal, int exists) {

  private static final Pattern IMAP_LOGIN =
      Pattern.compile("> (\\S+) (LOGIN|AUTHENTICATE)\\b.*", Pattern.CASE_INSENSITIVE);
  private static final Pattern IMAP_TAGGED = Pattern.compile("< (\\S+) (OK|NO|BAD)\\b.*",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern EXISTS = Pattern.compile("< \\* (\\d+) EXISTS\\s*",
      Pattern.CASE_INSENSITIVE);

  static CurlTranscript imap(String stderr) {
    int ok = 0;
    int refused = 0;
    String pendingTag = null;
    String refusal = null;
    int exists = -1;
    for (String line : stderr.split("\r?\n")) {
      Matcher login = IMAP_LOGIN.matcher(line);
      if (login.matches()) {
        pendingTag = login.group(1);
        continue;
      }
      Matcher tagged = IMAP_TAGGED.matcher(line);
      if (pendingTag != null && tagged.matches() && tagged.group(1).equals(pendingTag)) {
        if (tagged.group(2).equalsIgnoreCase("OK")) {
          ok++;
        } else {
          refused++;
          refusal = line.substring(2);
        }
        pendingTag = null;
        continue;
      }
      Matcher count = EXISTS.matcher(line);
      if (count.matches()) {
        exists = Integer.parseInt(count.group(1));
      }
    }
    return new CurlTranscript(new Attempt.Logins(ok, refused, pendingTag == null ? 0 : 1),
        refusal, exists);
  }

  static CurlTranscript pop3(String stderr) {
    int ok = 0;
    int refused = 0;
    boolean pending = false;
    String refusal = null;
    for (String line : stderr.split("\r?\n")) {
      String upper = line.toUpperCase(Locale.ROOT);
      if (upper.startsWith("> AUTH ") || upper.startsWith("> PASS ")) {
        pending = true;
      } else if (pending && upper.startsWith("< +OK")) {
        ok++;
        pending = false;
      } else if (pending && upper.startsWith("< -ERR")) {
        refused++;
        refusal = line.substring(2);
        pending = false;
      }
    }
    return new CurlTranscript(new Attempt.Logins(ok, refused, pending ? 1 : 0), refusal, -1);
  }
}
