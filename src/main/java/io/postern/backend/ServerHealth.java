package io.postern.backend;

import io.postern.config.BackendConfig.HealthCheck;

/**
 * Whether one server takes new logins for one protocol, HAProxy's way: it starts up, goes down
 * after {@code fall} failed checks in a row and comes back after {@code rise} good ones. A login
 * that could not reach the server counts as a failed check (passive health), so a server that
 * dies between checks is taken out by the logins that find it dead. Without active checks
 * nothing could bring a server back, so it is never taken down: logins just move on past it.
 * Thread-safe: checks run on one event loop, logins on all of them.
 */
public final class ServerHealth {

  /** What a result did to the server's state. */
  public enum Change { NONE, WENT_DOWN, CAME_UP }

  private final HealthCheck check;
  private boolean up = true;
  private int failuresInRow;
  private int successesInRow;
  private String lastProblem;

  public ServerHealth(HealthCheck check) {
    this.check = check;
  }

  public synchronized boolean up() {
    return up;
  }

  /** Why the last failed check or login failed; null after a good check. */
  public synchronized String lastProblem() {
    return lastProblem;
  }

  public synchronized Change succeeded() {
    failuresInRow = 0;
    lastProblem = null;
    if (!up && ++successesInRow >= check.rise()) {
      up = true;
      successesInRow = 0;
      return Change.CAME_UP;
    }
    return Change.NONE;
  }

  public synchronized Change failed(String problem) {
    successesInRow = 0;
    lastProblem = problem;
    if (up && check.enabled() && ++failuresInRow >= check.fall()) {
      up = false;
      failuresInRow = 0;
      return Change.WENT_DOWN;
    }
    return Change.NONE;
  }
}
