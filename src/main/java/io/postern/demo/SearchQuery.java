package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * A parsed SEARCH program. Keys it cannot evaluate are refused with BAD instead of being ignored:
 * silently matching everything would make clients show wrong results.
 */
final class SearchQuery {

  /** A message with the context that sequence-number and UID keys need. */
  record Candidate(int seq, FolderMessage message, int exists, long largestUid) {}

  private static final DateTimeFormatter SEARCH_DATE =
      new DateTimeFormatterBuilder()
          .parseCaseInsensitive()
          .appendPattern("d-MMM-yyyy")
          .toFormatter(Locale.ENGLISH);

  private final Predicate<Candidate> predicate;

  private SearchQuery(Predicate<Candidate> predicate) {
    this.predicate = predicate;
  }

  /** Parses search keys (after any CHARSET clause); consecutive keys are ANDed. */
  static SearchQuery parse(List<ImapToken> keys) throws ImapSyntaxException {
    if (keys.isEmpty()) {
      throw new ImapSyntaxException("Missing search key.");
    }
    return new SearchQuery(all(new ImapArgs(keys)));
  }

  boolean matches(Candidate candidate) {
    return predicate.test(candidate);
  }

  private static Predicate<Candidate> all(ImapArgs args) throws ImapSyntaxException {
    Predicate<Candidate> result = key(args);
    while (args.hasNext()) {
      result = result.and(key(args));
    }
    return result;
  }

  private static Predicate<Candidate> key(ImapArgs args) throws ImapSyntaxException {
    ImapToken token = args.next();
    if (token instanceof ImapToken.Group group) {
      if (group.items().isEmpty()) {
        throw new ImapSyntaxException("Empty search key list.");
      }
      return all(new ImapArgs(group.items()));
    }
    if (!(token instanceof ImapToken.Atom atom)) {
      throw new ImapSyntaxException("Invalid search key.");
    }
    String key = atom.value().toUpperCase(Locale.ROOT);
    if (SequenceSet.looksLike(key)) {
      SequenceSet set = SequenceSet.parse(key);
      return c -> set.contains(c.seq(), c.exists());
    }
    return switch (key) {
      case "ALL", "OLD" -> c -> true;
        // Nothing is ever \Recent in the demo: every session sees the same old messages.
      case "NEW", "RECENT" -> c -> false;
      case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN" -> flag(key);
      case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN" ->
          flag(key.substring(2)).negate();
      case "KEYWORD" -> keyword(args);
      case "UNKEYWORD" -> keyword(args).negate();
      case "NOT" -> key(args).negate();
      case "OR" -> key(args).or(key(args));
      case "UID" -> uid(args);
      case "FROM", "TO", "CC", "BCC", "SUBJECT" -> header(key, args.astring());
      case "HEADER" -> header(args.astring(), args.astring());
      case "BODY" -> text(args.astring(), false);
      case "TEXT" -> text(args.astring(), true);
      case "LARGER" -> size(args, true);
      case "SMALLER" -> size(args, false);
      case "BEFORE", "ON", "SINCE" -> date(key, searchDate(args), SearchQuery::internalDay);
      case "SENTBEFORE", "SENTON", "SENTSINCE" ->
          date(key.substring(4), searchDate(args), SearchQuery::sentDay);
      default -> throw new ImapSyntaxException("Unsupported search key " + key + ".");
    };
  }

  private static Predicate<Candidate> flag(String name) {
    String flag = "\\" + name.charAt(0) + name.substring(1).toLowerCase(Locale.ROOT);
    return c -> c.message().has(flag);
  }

  private static Predicate<Candidate> keyword(ImapArgs args) throws ImapSyntaxException {
    String keyword = DemoFolder.canonicalFlag(args.astring());
    return c -> c.message().has(keyword);
  }

  private static Predicate<Candidate> uid(ImapArgs args) throws ImapSyntaxException {
    SequenceSet set = SequenceSet.parse(args.astring());
    return c -> set.contains(c.message().uid(), c.largestUid());
  }

  private static Predicate<Candidate> header(String name, String needle) {
    return c ->
        c.message().message().mime().fields().stream()
            .anyMatch(f -> f.named(name) && containsIgnoreCase(f.decodedValue(), needle));
  }

  private static Predicate<Candidate> text(String needle, boolean withHeader) {
    return c -> {
      DemoMessage m = c.message().message();
      String body = new String(m.body(), StandardCharsets.UTF_8);
      return containsIgnoreCase(body, needle)
          || withHeader
              && m.mime().fields().stream()
                  .anyMatch(f -> containsIgnoreCase(f.name() + ": " + f.decodedValue(), needle));
    };
  }

  private static Predicate<Candidate> size(ImapArgs args, boolean larger)
      throws ImapSyntaxException {
    String text = args.astring();
    if (!text.matches("[0-9]{1,10}")) {
      throw new ImapSyntaxException("Invalid size.");
    }
    long limit = Long.parseLong(text);
    return c ->
        larger ? c.message().message().size() > limit : c.message().message().size() < limit;
  }

  private static LocalDate searchDate(ImapArgs args) throws ImapSyntaxException {
    try {
      return LocalDate.parse(args.astring(), SEARCH_DATE);
    } catch (DateTimeParseException e) {
      throw new ImapSyntaxException("Invalid date.");
    }
  }

  private static Predicate<Candidate> date(
      String comparison, LocalDate date, java.util.function.Function<Candidate, LocalDate> day) {
    return switch (comparison) {
      case "BEFORE" -> c -> day.apply(c) != null && day.apply(c).isBefore(date);
      case "ON" -> c -> date.equals(day.apply(c));
      default -> c -> day.apply(c) != null && !day.apply(c).isBefore(date);
    };
  }

  private static LocalDate internalDay(Candidate c) {
    return c.message().message().internalDate().toLocalDate();
  }

  /** The Date header's day in its own zone, as RFC 3501 asks; null when missing or unreadable. */
  private static LocalDate sentDay(Candidate c) {
    return c.message()
        .message()
        .mime()
        .field("Date")
        .map(
            f -> {
              try {
                return ZonedDateTime.parse(f.value(), DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toLocalDate();
              } catch (DateTimeParseException e) {
                return null;
              }
            })
        .orElse(null);
  }

  private static boolean containsIgnoreCase(String haystack, String needle) {
    return haystack.toLowerCase(Locale.ROOT).contains(needle.toLowerCase(Locale.ROOT));
  }
}
