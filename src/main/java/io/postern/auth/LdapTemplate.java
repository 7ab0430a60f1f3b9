package io.postern.auth;

import com.unboundid.ldap.sdk.Filter;

/**
 * Puts a user name into {@code auth.ldap.filter} or a {@code bind-dn} template, escaped for
 * where it goes, so that a name can never change the filter or the DN: {@code %u} the name,
 * {@code %n} its part before the last {@code @}, {@code %d} the part after it (empty without
 * one), {@code %%} a percent sign.
 */
final class LdapTemplate {

  private LdapTemplate() {}

  /** {@code filter} with the user's name escaped as RFC 4515 asks ({@code * ( ) \ NUL}). */
  static String filter(String filter, String user) {
    return expand(filter, user, true);
  }

  /** {@code dn} with the user's name escaped as RFC 4514 asks ({@code , + " \ < > ; =} ...). */
  static String dn(String dn, String user) {
    return expand(dn, user, false);
  }

  private static String expand(String template, String user, boolean filter) {
    int at = user.lastIndexOf('@');
    String local = at < 0 ? user : user.substring(0, at);
    String domain = at < 0 ? "" : user.substring(at + 1);
    StringBuilder out = new StringBuilder(template.length() + user.length() * 3);
    for (int i = 0; i < template.length(); i++) {
      char c = template.charAt(i);
      if (c != '%' || i + 1 == template.length()) {
        out.append(c);
        continue;
      }
      char next = template.charAt(++i);
      String value = switch (next) {
        case 'u' -> user;
        case 'n' -> local;
        case 'd' -> domain;
        case '%' -> null;
        default -> {
          out.append('%');
          yield null;
        }
      };
      if (value == null) {
        out.append(next == '%' ? "%" : String.valueOf(next));
      } else {
        out.append(filter ? Filter.encodeValue(value) : dnValue(value));
      }
    }
    return out.toString();
  }

  /** One attribute value of a DN (RFC 4514 section 2.4). */
  static String dnValue(String value) {
    StringBuilder out = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean edge = i == 0 && (c == ' ' || c == '#') || i == value.length() - 1 && c == ' ';
      if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\%02x", (int) c));
      } else if (edge || ",+\"\\<>;=".indexOf(c) >= 0) {
        out.append('\\').append(c);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
