package io.postern.bench.jmh;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.postern.imap.ImapResponseBoundaries;
import io.postern.metrics.MeteredVertx;
import io.postern.net.SocketEnds;
import io.postern.relay.Relay;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The relay between two real loopback TCP connections, as a logged-in IMAP session has it: a
 * fake backend sends one FETCH of a {@code mib} MiB message as fast as its socket takes
 * it (writing while its queue has room, then waiting for the drain: backpressure), the
 * {@link Relay} (with {@link ImapResponseBoundaries}, as production) passes it to a client that
 * reads as fast as it can. One operation is the whole response, from the backend's first write
 * to the client's last byte: MiB/s = {@code mib} / (seconds per operation).
 *
 * <p>The fake backend and client run in the same JVM on their own event loops, so the JVM's CPU
 * time ({@link CpuTimeProfiler}) and allocation ({@code -prof gc}) include theirs too (one
 * socket write per chunk and one read per read, next to the relay's read and write of each).
 * {@code metrics=on} is Vert.x built with Postern's meters ({@link MeteredVertx}), as Postern
 * runs it; {@code off} a bare Vert.x.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RelayBench {

  /** How much the fake backend writes at once. */
  private static final int WRITE = 64 * 1024;

  @Param({"off", "on"})
  public String metrics;

  /** The message's size in MiB (the smoke test makes it 1). */
  @Param({"16"})
  public int mib;

  private Vertx vertx;
  private NetServer backendServer;
  private NetServer posternServer;
  private NetClient netClient;
  private NetSocket backendEnd;
  private Context backendContext;
  private NetSocket clientEnd;
  private Relay relay;
  private Buffer header;
  private Buffer chunk;
  private Buffer trailer;
  private long message;
  private long responseBytes;
  /** The response under way: what the client still has to receive, and when it has. */
  private volatile Expected expected;

  private static final class Expected {
    long left;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Expected(long left) {
      this.left = left;
    }
  }

  @Setup
  public void setUp() throws Exception {
    LongAdder toClient = new LongAdder();
    LongAdder toBackend = new LongAdder();
    Relay.Counters counters = new Relay.Counters(toClient::add, toBackend::add);
    if (metrics.equals("on")) {
      PrometheusMeterRegistry registry = MeteredVertx.registry();
      vertx = MeteredVertx.create(MeteredVertx.options(), registry);
      counters = new Relay.Counters(registry.counter("relay_to_client")::increment,
          registry.counter("relay_to_backend")::increment);
    } else {
      vertx = Vertx.vertx();
    }
    String loopback = InetAddress.getLoopbackAddress().getHostAddress();
    Promise<NetSocket> backendAccepted = Promise.promise();
    backendServer = vertx.createNetServer().connectHandler(socket -> {
      backendContext = vertx.getOrCreateContext();
      backendAccepted.tryComplete(socket);
    });
    int backendPort = await(backendServer.listen(0, loopback)).actualPort();

    // Postern's side: a client's connection, a connection to the backend, the relay between.
    Relay.Counters relayCounters = counters;
    Promise<Relay> started = Promise.promise();
    netClient = vertx.createNetClient();
    NetClient toBackendClient = vertx.createNetClient();
    posternServer = vertx.createNetServer().connectHandler(client -> {
      client.pause();
      SocketEnds.allowHalfClose(client);
      toBackendClient.connect(backendPort, loopback).onSuccess(backend -> {
        backend.pause();
        started.complete(Relay.start(vertx, client, backend, Buffer.buffer(), Buffer.buffer(),
            false, Duration.ofHours(1), () -> Duration.ZERO, relayCounters,
            new ImapResponseBoundaries()));
      }).onFailure(started::tryFail);
    });
    int posternPort = await(posternServer.listen(0, loopback)).actualPort();

    clientEnd = await(netClient.connect(posternPort, loopback));
    clientEnd.handler(data -> {
      Expected e = expected;
      e.left -= data.length();
      if (e.left == 0) {
        e.done.complete(null);
      } else if (e.left < 0) {
        e.done.completeExceptionally(new IllegalStateException("more bytes than sent"));
      }
    });
    relay = await(started.future());
    backendEnd = await(backendAccepted.future());

    message = (long) mib << 20;
    header = Buffer.buffer("* 1 FETCH (UID 4242 BODY[] {" + message + "}\r\n");
    byte[] body = ResponseBoundariesBench.message(WRITE);
    chunk = Buffer.buffer(body);
    trailer = Buffer.buffer(")\r\na7 OK Fetch completed (0.002 + 0.000 secs).\r\n"
        .getBytes(US_ASCII));
    responseBytes = header.length() + message + trailer.length();
  }

  @Benchmark
  public long fetch() throws Exception {
    Expected e = new Expected(responseBytes);
    expected = e;
    // The backend's socket is used on its own event loop only, as a server's would be.
    backendContext.runOnContext(v -> new Pump().start());
    e.done.get(60, TimeUnit.SECONDS);
    return relay.toClient();
  }

  /** The fake backend: the response, written while the socket's queue has room. */
  private final class Pump {
    private long sent;

    void start() {
      backendEnd.write(header);
      pump();
    }

    private void pump() {
      while (sent < message) {
        backendEnd.write(chunk);
        sent += WRITE;
        if (backendEnd.writeQueueFull()) {
          backendEnd.drainHandler(v -> pump());
          return;
        }
      }
      backendEnd.write(trailer);
      // A drain later on must not call this pump again (it would send the trailer twice).
      backendEnd.drainHandler(null);
    }
  }

  @TearDown
  public void tearDown() throws Exception {
    if (clientEnd != null) {
      clientEnd.close();
    }
    if (relay != null) {
      await(relay.result());
    }
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
