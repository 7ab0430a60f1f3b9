package io.postern.config;

import java.util.Locale;

/** The two mail protocols Postern proxies. */
public enum Protocol {
  IMAP,
  POP3;

  /** The lower-case name used in configuration, logs and metric labels. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
