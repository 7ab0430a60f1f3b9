package io.postern.backend;

import io.postern.testing.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * The named fake backends of one backend-login test class, and what its tests ask about each:
 * the bytes Postern sent it, whether Postern hung up on it, its lines with their TLS state.
 * Closing this closes them all.
 */
final class FakeBackends implements AutoCloseable {

  private final Map<String, FakeBackend> fakes = new LinkedHashMap<>();
  private final Map<String, CountDownLatch> hangUps = new LinkedHashMap<>();
  private final Map<String, ByteArrayOutputStream> wire = new LinkedHashMap<>();
  private final Map<String, List<String>> tlsLogs = new LinkedHashMap<>();

  FakeBackend add(String name, FakeBackend fake) {
    fakes.put(name, fake);
    return fake;
  }

  FakeBackend get(String name) {
    return fakes.get(name);
  }

  /** Counted down when Postern hangs up on {@code name}, for scripts that wait for that. */
  synchronized CountDownLatch hangUp(String name) {
    return hangUps.computeIfAbsent(name, n -> new CountDownLatch(1));
  }

  /** Sends {@code greeting} (no line end added) and keeps what Postern sends back for {@link #wire}. */
  synchronized FakeBackend.Script greets(String name, String greeting) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    wire.put(name, got);
    return BackendFaults.sendsThenWaits(greeting, hangUp(name), got);
  }

  /** The raw bytes Postern sent to the {@link #greets} backend {@code name}, as ISO-8859-1. */
  synchronized String wire(String name) {
    return BackendFaults.text(wire.get(name));
  }

  /** The log a STARTTLS backend {@code name} writes each line into, prefixed "plain: " or "tls: ". */
  synchronized List<String> tlsLog(String name) {
    return tlsLogs.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>());
  }

  @Override
  public void close() throws IOException {
    for (FakeBackend fake : fakes.values()) {
      fake.close();
    }
  }
}
