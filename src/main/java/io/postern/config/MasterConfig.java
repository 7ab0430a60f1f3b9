package io.postern.config;

import java.nio.file.Path;

/**
 * {@code auth.master}: master users, Dovecot's way. A login as {@code customer<separator>master}
 * is checked against {@code passwdFile} as {@code master} and opens {@code customer}'s mailbox.
 */
public record MasterConfig(String separator, Path passwdFile) {}
