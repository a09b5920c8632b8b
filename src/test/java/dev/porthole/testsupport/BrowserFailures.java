package dev.porthole.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.OutputType;

/**
 * Saves what the browser showed when a test fails: {@code target/browser-failures/<class>.<test>.png}
 * (a screenshot) and {@code .console.log} (the page's console and its URL). Register it with
 * {@code @RegisterExtension} and a supplier of the test's current browser (null: nothing to save).
 * It runs before the test's {@code @AfterEach}, while the browser is still open.
 */
public final class BrowserFailures implements AfterTestExecutionCallback {
  private static final Path DIR = Path.of("target", "browser-failures");
  private final Supplier<Chromium> browser;

  public BrowserFailures(Supplier<Chromium> browser) {
    this.browser = browser;
  }

  @Override
  public void afterTestExecution(ExtensionContext context) throws IOException {
    Chromium chromium = browser.get();
    if (context.getExecutionException().isEmpty() || chromium == null) {
      return;
    }
    Files.createDirectories(DIR);
    String name = context.getRequiredTestClass().getSimpleName() + "." + context.getRequiredTestMethod().getName();
    StringBuilder log = new StringBuilder();
    try {
      log.append("url: ").append(chromium.driver().getCurrentUrl()).append('\n');
      Files.write(DIR.resolve(name + ".png"), chromium.driver().getScreenshotAs(OutputType.BYTES));
    } catch (RuntimeException e) {
      log.append("no screenshot: ").append(e).append('\n');
    }
    try {
      chromium.console().forEach(line -> log.append(line).append('\n'));
    } catch (RuntimeException e) {
      log.append("no console log: ").append(e).append('\n');
    }
    Files.writeString(DIR.resolve(name + ".console.log"), log, StandardCharsets.UTF_8);
  }
}
