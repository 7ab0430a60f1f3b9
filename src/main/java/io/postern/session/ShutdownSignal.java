package io.postern.session;

/** Set once when Postern begins to stop; sessions check it before starting new work. */
public final class ShutdownSignal {

  private volatile boolean stopping;

  public void begin() {
    stopping = true;
  }

  public boolean stopping() {
    return stopping;
  }
}
