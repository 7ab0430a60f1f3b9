package io.postern.it.soak;

import java.util.List;

/**
 * What Postern wrote during the soak, searched for what must never be there: Netty's buffer leak
 * reports, an OutOfMemoryError, "Too many open files", and any password a client typed.
 */
record PosternLog(long leaks, long outOfMemory, long tooManyFiles, long passwords, long warnings,
    long errors) {

  static PosternLog scan(String output, List<String> passwords) {
    long leaks = 0;
    long oom = 0;
    long files = 0;
    long secrets = 0;
    long warnings = 0;
    long errors = 0;
    for (String line : output.split("\n")) {
      leaks += line.contains("LEAK:") ? 1 : 0;
      oom += line.contains("OutOfMemoryError") ? 1 : 0;
      files += line.contains("Too many open files") ? 1 : 0;
      for (String password : passwords) {
        secrets += line.contains(password) ? 1 : 0;
      }
      // The text layout: time, level, logger, message.
      String[] fields = line.split(" +", 3);
      if (fields.length >= 2) {
        warnings += fields[1].equals("WARN") ? 1 : 0;
        errors += fields[1].equals("ERROR") ? 1 : 0;
      }
    }
    return new PosternLog(leaks, oom, files, secrets, warnings, errors);
  }
}
