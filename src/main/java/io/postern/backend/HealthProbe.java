package io.postern.backend;

import io.vertx.core.Future;
import java.util.Set;

/**
 * One protocol's health check of one server: connect, read the greeting, upgrade to TLS where
 * the backend uses it (with the same certificate checks as a login), ask for the capabilities,
 * say goodbye. Succeeds with the capabilities, upper case; fails as a login would.
 */
@FunctionalInterface
public interface HealthProbe {

  Future<Set<String>> check(BackendConnector connector, BackendTarget target);
}
