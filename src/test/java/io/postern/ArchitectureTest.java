package io.postern;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

/**
 * The package rules of DESIGN.md §2, checked on the compiled classes (imports and fully
 * qualified uses alike): dependencies point down, protocols never know each other, and no two
 * packages need each other.
 */
@AnalyzeClasses(packages = "io.postern", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** What sits below the session: none of it may know a protocol, the session or a listener. */
  private static final String[] BELOW_SESSION = {"io.postern.auth..", "io.postern.backend..",
      "io.postern.relay..", "io.postern.tls..", "io.postern.config..", "io.postern.metrics..",
      "io.postern.sasl..", "io.postern.credentials..", "io.postern.net..",
      "io.postern.logging.."};

  /** Each package under io.postern is a slice, and io.postern itself (main, server) is one. */
  private static final SliceAssignment PACKAGES = new SliceAssignment() {
    @Override
    public SliceIdentifier getIdentifierOf(JavaClass type) {
      String name = type.getPackageName();
      if (name.equals("io.postern")) {
        return SliceIdentifier.of("io.postern (root)");
      }
      if (!name.startsWith("io.postern.")) {
        return SliceIdentifier.ignore();
      }
      String rest = name.substring("io.postern.".length());
      int dot = rest.indexOf('.');
      return SliceIdentifier.of(dot < 0 ? rest : rest.substring(0, dot));
    }

    @Override
    public String getDescription() {
      return "the packages of Postern";
    }
  };

  @ArchTest
  static final ArchRule noPackageCycles = slices().assignedFrom(PACKAGES).should()
      .beFreeOfCycles();

  @ArchTest
  static final ArchRule imapNeverUsesPop3 = noClasses().that().resideInAPackage("io.postern.imap..")
      .should().dependOnClassesThat().resideInAPackage("io.postern.pop3..");

  @ArchTest
  static final ArchRule pop3NeverUsesImap = noClasses().that().resideInAPackage("io.postern.pop3..")
      .should().dependOnClassesThat().resideInAPackage("io.postern.imap..");

  @ArchTest
  static final ArchRule lowerLayersNeverUseProtocolsOrSessions = noClasses().that()
      .resideInAnyPackage(BELOW_SESSION)
      .should().dependOnClassesThat().resideInAnyPackage("io.postern.imap..",
          "io.postern.pop3..", "io.postern.session..", "io.postern.listener..",
          "io.postern.demo..")
      .orShould().dependOnClassesThat().resideInAPackage("io.postern");

  @ArchTest
  static final ArchRule sessionNeverUsesAProtocol = noClasses().that()
      .resideInAPackage("io.postern.session..")
      .should().dependOnClassesThat().resideInAnyPackage("io.postern.imap..",
          "io.postern.pop3..", "io.postern.listener..", "io.postern.demo..")
      .orShould().dependOnClassesThat().resideInAPackage("io.postern");

  @ArchTest
  static final ArchRule configIsData = classes().that().resideInAPackage("io.postern.config..")
      .should().onlyDependOnClassesThat(resideOutsideOfPackage("io.postern..")
          .or(resideInAPackage("io.postern.config..")));

  /** Metrics takes plain callbacks from what it measures; it knows only the configuration. */
  @ArchTest
  static final ArchRule metricsKnowsOnlyTheConfiguration = noClasses().that()
      .resideInAPackage("io.postern.metrics..")
      .should().dependOnClassesThat().resideInAnyPackage("io.postern.auth..",
          "io.postern.backend..", "io.postern.relay..", "io.postern.tls..", "io.postern.sasl..",
          "io.postern.credentials..", "io.postern.net..", "io.postern.logging..");

  /** The admin API sits on top: only the root package (the server) wires it in. */
  @ArchTest
  static final ArchRule nothingBelowUsesTheAdminApi = noClasses().that()
      .resideOutsideOfPackages("io.postern.admin..", "io.postern")
      .should().dependOnClassesThat().resideInAPackage("io.postern.admin..");

  /** The admin API acts through AdminActions; it knows no protocol, listener or the server. */
  @ArchTest
  static final ArchRule adminApiUsesOnlyWhatItActsOn = noClasses().that()
      .resideInAPackage("io.postern.admin..")
      .should().dependOnClassesThat().resideInAnyPackage("io.postern.imap..",
          "io.postern.pop3..", "io.postern.listener..", "io.postern.demo..")
      .orShould().dependOnClassesThat().resideInAPackage("io.postern");

  /** The demo is an adapter that Postern's main uses, never the other way round. */
  @ArchTest
  static final ArchRule demoStaysOutside = noClasses().that()
      .resideOutsideOfPackages("io.postern.demo..", "io.postern")
      .should().dependOnClassesThat().resideInAPackage("io.postern.demo..");
}
