package io.postern.credentials;

/** A login name and password as a client presented them; never printable. */
public record Credentials(String user, Secret password) {

  @Override
  public String toString() {
    return "Credentials[user=" + user + "]";
  }
}
