package dev.porthole.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless Chromium driven through Debian's chromedriver: both binaries named, so
 * Selenium Manager never looks for (or downloads) a driver or a browser. Tests that need it skip
 * with a message when either binary is absent ({@code apt-get install chromium chromium-driver}).
 * Each browser gets a fresh profile under {@code target/}; {@link #close} ends the browser and the
 * driver process.
 */
public final class Chromium implements AutoCloseable {
  public static final Path BROWSER = Path.of(System.getProperty("porthole.chromium", "/usr/bin/chromium"));
  public static final Path DRIVER = Path.of(System.getProperty("porthole.chromedriver", "/usr/bin/chromedriver"));

  private final ChromeDriverService service;
  private final ChromeDriver driver;

  private Chromium(ChromeDriverService service, ChromeDriver driver) {
    this.service = service;
    this.driver = driver;
  }

  /** Skips the calling test (or class) when Chromium or chromedriver is not installed. */
  public static void assumeInstalled() {
    Assumptions.assumeTrue(Files.isExecutable(BROWSER) && Files.isExecutable(DRIVER),
        "browser tests skipped: needs " + BROWSER + " and " + DRIVER
            + " (Debian: apt-get install chromium chromium-driver; .ci/run installs them)");
  }

  /** A new headless browser with a window of {@code width} × {@code height}. */
  public static Chromium start(int width, int height) throws IOException {
    assumeInstalled();
    Path profile = Files.createTempDirectory(Files.createDirectories(Path.of("target", "chromium")), "profile-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(BROWSER.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--enable-precise-memory-info", "--user-data-dir=" + profile.toAbsolutePath(),
        "--window-size=" + width + "," + height);
    options.setExperimentalOption("prefs", Map.of("credentials_enable_service", false));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(DRIVER.toString()))
        .usingAnyFreePort()
        .withLogFile(profile.resolve("chromedriver.log").toFile())
        .build();
    try {
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().pageLoadTimeout(Timeouts.scaled(Duration.ofSeconds(30)))
          .scriptTimeout(Timeouts.scaled(Duration.ofSeconds(30)));
      return new Chromium(service, driver);
    } catch (RuntimeException e) {
      service.stop();
      throw e;
    }
  }

  public ChromeDriver driver() {
    return driver;
  }

  /** What the page logged to its console so far (each line once: the driver hands them over once). */
  public List<String> console() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
        .map(e -> e.getTimestamp() + " " + e.getLevel() + " " + e.getMessage()).toList();
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
    }
  }
}
