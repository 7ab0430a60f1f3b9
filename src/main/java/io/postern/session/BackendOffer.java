package io.postern.session;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * What a client is told, before login, that the backends offer. The client may be sent to any
 * server of any backend, and some clients (Jakarta Mail's POP3) never ask again after login, so
 * only what every live server offers is promised.
 */
final class BackendOffer {

  private BackendOffer() {}

  /**
   * The listener's configured {@code capabilities} when it has them. Otherwise the
   * {@code passable} capabilities every server the health checks heard from offers, but no more
   * than {@code assumed} while some backend is not checked (nothing is known of its servers);
   * and {@code assumed} until a check has answered. Upper case, sorted.
   */
  static List<String> announced(ListenerContext context, Set<String> assumed,
      Predicate<String> passable) {
    List<String> configured = context.listener().capabilities();
    if (configured != null) {
      return configured;
    }
    Set<String> learned = context.capabilities().offeredByAll(context.listener().protocol());
    Set<String> offered = new TreeSet<>();
    (learned == null ? assumed : learned).forEach(c -> offered.add(c.toUpperCase(Locale.ROOT)));
    offered.removeIf(passable.negate());
    if (learned != null && !context.config().backends().values().stream()
        .allMatch(backend -> backend.healthCheck().enabled())) {
      offered.retainAll(assumed);
    }
    return List.copyOf(offered);
  }
}
