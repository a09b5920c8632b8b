package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The list's cursor: a row's place in write order, opaque to callers; anything else is refused. */
class CursorTest {
  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void a_cursor_comes_back_as_it_went_out() {
    for (long rowid : new long[] {1, 42, Long.MAX_VALUE}) {
      assertThat(Store.Cursor.decode(new Store.Cursor(rowid).encode()).rowid()).isEqualTo(rowid);
    }
  }

  @Test
  void anything_else_is_invalid_an_earlier_versions_cursor_too() {
    for (String bad : new String[] {"not a cursor!", b64("2026-12-05 06:00:00+00:00\nr1"), b64("row:"),
        b64("row:-1"), b64("row:12a"), b64("row:99999999999999999999"), b64("12")}) {
      assertThatThrownBy(() -> Store.Cursor.decode(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("invalid cursor");
    }
  }
}
