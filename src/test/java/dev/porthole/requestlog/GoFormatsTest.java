package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The row time Portr's driver writes ({@code 2006-01-02 15:04:05.999999999-07:00}), made once per second. */
class GoFormatsTest {
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss")
      .withZone(ZoneOffset.UTC);

  /** The format spelled out: fraction without trailing zeros, none when zero. */
  private static String expected(Instant t) {
    String fraction = "";
    if (t.getNano() != 0) {
      fraction = "." + String.format("%09d", t.getNano()).replaceAll("0+$", "");
    }
    return SECONDS.format(t) + fraction + "+00:00";
  }

  @Test
  void db_time_in_go_s_form_across_seconds_and_back_again() {
    String[] fixed = {"2026-12-05T06:00:00Z", "2026-12-05T06:00:00.1Z", "2026-12-05T06:00:00.000000001Z",
        "2026-12-05T06:00:00.123456789Z", "2026-12-05T06:00:00.120Z", "2024-02-29T23:59:59.999999999Z",
        "2024-03-01T00:00:00Z", "0999-01-01T00:00:00.5Z", "2026-12-05T05:59:59.9Z"};
    for (String s : fixed) {
      Instant t = Instant.parse(s);
      assertThat(GoFormats.dbTime(t)).as(s).isEqualTo(expected(t));
      assertThat(GoFormats.dbTime(t)).as(s + " again").isEqualTo(expected(t));
    }
    SplittableRandom random = new SplittableRandom(7);
    Instant base = Instant.parse("2026-12-05T06:00:00Z");
    for (int i = 0; i < 10_000; i++) { // mostly within a few seconds, as the writer stamps rows
      Instant t = base.plusNanos(random.nextLong(3_000_000_000L) - 1_000_000_000L);
      assertThat(GoFormats.dbTime(t)).isEqualTo(expected(t));
    }
  }
}
