package io.postern.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A small OAuth 2.0 issuer on 127.0.0.1 (a real HTTP server, port 0): {@code /jwks} serves the
 * public keys of the {@link SigningKey}s it publishes, {@code /introspect} answers RFC 7662
 * requests with a script. Tokens are signed by Vert.x's JWTAuth with the test's private keys.
 */
public final class TestIssuer implements AutoCloseable {

  /** A key pair the test made, with its key id and algorithm. */
  public record SigningKey(String kid, String alg, KeyPair pair) {

    public static SigningKey rsa(String kid) throws Exception {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return new SigningKey(kid, "RS256", g.generateKeyPair());
    }

    public static SigningKey ec(String kid) throws Exception {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return new SigningKey(kid, "ES256", g.generateKeyPair());
    }

    /** The public half as a JWK. */
    public JsonObject jwk() {
      JsonObject k = new JsonObject().put("kid", kid).put("alg", alg).put("use", "sig");
      if (pair.getPublic() instanceof RSAPublicKey rsa) {
        return k.put("kty", "RSA").put("n", b64(rsa.getModulus()))
            .put("e", b64(rsa.getPublicExponent()));
      }
      ECPublicKey ec = (ECPublicKey) pair.getPublic();
      return k.put("kty", "EC").put("crv", "P-256")
          .put("x", b64(ec.getW().getAffineX(), 32)).put("y", b64(ec.getW().getAffineY(), 32));
    }

    /** A token with {@code claims}, signed with this key (its kid in the header). */
    public String sign(Vertx vertx, JsonObject claims) {
      String pem = "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder().encodeToString(pair.getPrivate().getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
      JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
          new PubSecKeyOptions().setAlgorithm(alg).setId(kid).setBuffer(Buffer.buffer(pem))));
      return signer.generateToken(claims.copy(), new JWTOptions().setAlgorithm(alg));
    }

    private static String b64(BigInteger n) {
      byte[] b = n.toByteArray();
      if (b.length > 1 && b[0] == 0) {
        b = Arrays.copyOfRange(b, 1, b.length);
      }
      return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String b64(BigInteger n, int size) {
      byte[] b = n.toByteArray();
      byte[] out = new byte[size];
      int from = Math.max(0, b.length - size);
      System.arraycopy(b, from, out, size - (b.length - from), b.length - from);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    }
  }

  /** One introspection request as the issuer saw it. */
  public record Introspection(String authorization, String token) {}

  private final HttpServer server;
  private final java.util.concurrent.ExecutorService threads =
      java.util.concurrent.Executors.newCachedThreadPool();
  private volatile List<JsonObject> published = List.of();
  private volatile int jwksStatus = 200;
  private final AtomicInteger jwksRequests = new AtomicInteger();
  private volatile Function<String, Reply> introspect = t -> Reply.json(200,
      new JsonObject().put("active", false));
  private final List<Introspection> introspections = new CopyOnWriteArrayList<>();

  /** An introspection answer: a status and a body (null: no answer at all, the client waits). */
  public record Reply(int status, String body) {
    public static Reply json(int status, JsonObject body) {
      return new Reply(status, body.encode());
    }

    public static Reply silence() {
      return new Reply(0, null);
    }
  }

  private final String scheme;

  private TestIssuer(HttpServer server, String scheme) {
    this.server = server;
    this.scheme = scheme;
  }

  public static TestIssuer start() throws IOException {
    return start(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0),
        "http");
  }

  /** Over https, with the certificate of {@code tls} (for {@code localhost}). */
  public static TestIssuer startHttps(TestTls tls) throws IOException {
    com.sun.net.httpserver.HttpsServer server = com.sun.net.httpserver.HttpsServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(
        tls.serverContext()));
    return start(server, "https");
  }

  private static TestIssuer start(HttpServer server, String scheme) {
    TestIssuer issuer = new TestIssuer(server, scheme);
    server.createContext("/jwks", issuer::jwks);
    server.createContext("/introspect", issuer::introspect);
    server.setExecutor(issuer.threads);
    server.start();
    return issuer;
  }

  public String jwksUrl() {
    return base() + "/jwks";
  }

  public String introspectionUrl() {
    return base() + "/introspect";
  }

  private String base() {
    return scheme + "://" + (scheme.equals("https") ? "localhost" : "127.0.0.1") + ":"
        + server.getAddress().getPort();
  }

  /** The keys {@code /jwks} serves from now on. */
  public void publish(SigningKey... keys) {
    published = Arrays.stream(keys).map(SigningKey::jwk).toList();
  }

  /** These JWKs, as they are, from now on. */
  public void publishJwks(JsonObject... jwks) {
    published = List.of(jwks);
  }

  /** {@code /jwks}'s status from now on (e.g. 503: the endpoint is down). */
  public void jwksStatus(int status) {
    jwksStatus = status;
  }

  public int jwksRequests() {
    return jwksRequests.get();
  }

  /** How {@code /introspect} answers, given the token. */
  public void introspect(Function<String, Reply> script) {
    introspect = script;
  }

  public List<Introspection> introspections() {
    return List.copyOf(introspections);
  }

  private void jwks(HttpExchange x) throws IOException {
    jwksRequests.incrementAndGet();
    JsonArray keys = new JsonArray();
    published.forEach(keys::add);
    reply(x, jwksStatus, new JsonObject().put("keys", keys).encode());
  }

  private void introspect(HttpExchange x) throws IOException {
    String form = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String token = null;
    for (String pair : form.split("&")) {
      if (pair.startsWith("token=")) {
        token = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
      }
    }
    introspections.add(new Introspection(x.getRequestHeaders().getFirst("Authorization"), token));
    Reply r = introspect.apply(token);
    if (r.body() == null) {
      // Holds the exchange open: the client's deadline must end it.
      return;
    }
    reply(x, r.status(), r.body());
  }

  private static void reply(HttpExchange x, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
