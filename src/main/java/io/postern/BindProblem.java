package io.postern;

import io.postern.config.AdminConfig;
import io.postern.config.ListenerConfig;

/** Turns a failed listen into a message that says which listener, why, and how to fix it. */
final class BindProblem {

  private BindProblem() {}

  static Exception explain(ListenerConfig listener, int index, Throwable e) {
    String cause = rootMessage(e);
    String where = "listener '" + listener.name() + "' cannot listen on " + listener.endpoint();
    String lower = cause.toLowerCase(java.util.Locale.ROOT);
    String fix;
    if (lower.contains("permission denied") || lower.contains("access denied")) {
      fix = "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability: run as root, grant"
          + " it with `setcap cap_net_bind_service=+ep $(readlink -f $(command -v java))`, or"
          + " choose a port of 1024 or more (listeners[" + index + "].port, or the environment"
          + " variable POSTERN_LISTENERS__" + index + "__PORT)";
    } else if (lower.contains("address already in use")) {
      fix = "another process already listens there (another mail server or Postern?): stop it,"
          + " or change listeners[" + index + "].port";
    } else if (lower.contains("cannot assign requested address")) {
      fix = "the address is not configured on this machine: change listeners[" + index
          + "].address";
    } else {
      fix = "check listeners[" + index + "]";
    }
    return new IllegalStateException(where + ": " + cause + "; " + fix);
  }

  static Exception explainAdmin(AdminConfig admin, Throwable e) {
    String cause = rootMessage(e);
    String lower = cause.toLowerCase(java.util.Locale.ROOT);
    String fix = lower.contains("address already in use")
        ? "another process already listens there: stop it, or change admin.port"
        : "check admin.address and admin.port (or POSTERN_ADMIN__PORT)";
    return new IllegalStateException("the admin endpoint cannot listen on " + admin.address()
        + ":" + admin.port() + ": " + cause + "; " + fix);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
