package io.postern.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A password guesser: {@code connections} IMAPS connections, each sending LOGIN with a new
 * wrong password as soon as the previous one is answered, and connecting again when Postern
 * closes it. Every answer is recorded with its time.
 */
public final class LoginFlood implements AutoCloseable {

  /** What an answer said. */
  public enum Kind {
    /** {@code NO [AUTHENTICATIONFAILED]}: a password was checked and was wrong. */
    WRONG,
    /** {@code NO [UNAVAILABLE]}: refused for now, the password was not checked. */
    TEMPORARY,
    /** Anything else (a BYE, an OK). */
    OTHER
  }

  public record Answer(long atNanos, Kind kind, String line) {}

  private final int port;
  private final TestTls tls;
  private final List<String> from;
  private final IntFunction<String> user;
  private final long startNanos = System.nanoTime();
  private final List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
  private final Set<Conversation> open = ConcurrentHashMap.newKeySet();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger guesses = new AtomicInteger();
  private volatile boolean stopping;

  private LoginFlood(int port, TestTls tls, List<String> from, IntFunction<String> user) {
    this.port = port;
    this.tls = tls;
    this.from = List.copyOf(from);
    this.user = user;
  }

  /**
   * Starts {@code connections} guessers to loopback {@code port}; connection {@code i} comes
   * from {@code from[i % from.size()]} and guesses for {@code user.apply(guess number)}.
   */
  public static LoginFlood start(int port, TestTls tls, List<String> from, int connections,
      IntFunction<String> user) {
    LoginFlood flood = new LoginFlood(port, tls, from, user);
    for (int i = 0; i < connections; i++) {
      String address = flood.from.get(i % flood.from.size());
      Thread t = new Thread(() -> flood.guess(address), "guesser-" + i);
      t.setDaemon(true);
      flood.threads.add(t);
      t.start();
    }
    return flood;
  }

  public long startNanos() {
    return startNanos;
  }

  private void guess(String address) {
    while (!stopping) {
      Conversation c = null;
      try {
        c = MailClient.implicitTlsFrom(address, port, tls);
        open.add(c);
        if (stopping) {
          return;
        }
        c.socket().setSoTimeout(120_000);
        c.expect("* OK");
        while (!stopping) {
          int n = guesses.incrementAndGet();
          c.send("g" + n + " LOGIN " + user.apply(n) + " guess-" + n + "\r\n");
          String line = c.readLine();
          long at = System.nanoTime();
          if (line.startsWith("* BYE")) {
            // max-attempts and the pre-auth deadline end a guesser's connection: it comes back.
            if (!line.contains("Too many authentication failures")
                && !line.contains("Timed out waiting for login")) {
              answers.add(new Answer(at, Kind.OTHER, line));
            }
            break;
          }
          Kind kind = line.contains("NO [AUTHENTICATIONFAILED]") ? Kind.WRONG
              : line.contains("NO [UNAVAILABLE]") ? Kind.TEMPORARY : Kind.OTHER;
          if (!stopping) {
            answers.add(new Answer(at, kind, line));
          }
        }
      } catch (IOException e) {
        // Closed by Postern (max-attempts, deadline) or by stop(): connect again or end.
      } finally {
        if (c != null) {
          open.remove(c);
          try {
            c.close();
          } catch (IOException ignored) {
            // closing anyway
          }
        }
      }
    }
  }

  /** Every answer so far. */
  public List<Answer> answers() {
    synchronized (answers) {
      return List.copyOf(answers);
    }
  }

  /** Logins sent so far. */
  public int sent() {
    return guesses.get();
  }

  public long count(Kind kind) {
    return answers().stream().filter(a -> a.kind() == kind).count();
  }

  /** Stops every guesser and waits for them; returns every answer. */
  public List<Answer> stop() throws InterruptedException {
    stopping = true;
    for (Conversation c : open) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
    return answers();
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
