package io.postern.bench.load;

import java.util.OptionalLong;

/** A mail proxy the load runs against: where its four listeners are, and its processes. */
interface ProxyUnderTest extends AutoCloseable {

  /** For the report: "Postern" or "nginx". */
  String name();

  /** IMAP over implicit TLS. */
  int imapsPort();

  /** IMAP with STARTTLS. */
  int imapPort();

  /** POP3 over implicit TLS. */
  int pop3sPort();

  /** POP3 with STLS. */
  int pop3Port();

  /** Every process that works for the proxy (nginx: master, workers, auth service). */
  ProcessMeter meter();

  /** Heap in use after a full GC, in KiB; empty for a proxy that is not a JVM. */
  OptionalLong heapAfterGcKib() throws Exception;

  /** The most sessions (two descriptors each) its open-file limit and reserve leave room for. */
  int maxSessionsByDescriptors() throws Exception;

  /** What it logged, for diagnosis when a phase fails. */
  String output() throws Exception;

  @Override
  void close();
}
