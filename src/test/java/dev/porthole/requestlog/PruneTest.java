package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Store#deleteOldest} on a real file: exactly the first written, and what hangs on them. */
class PruneTest {
  @TempDir
  Path dir;

  /** Ten requests written in time order, two to a second, ids not in that order. */
  private List<String> seed(Connection c) throws SQLException {
    List<String> oldestFirst = new ArrayList<>();
    try (PreparedStatement s = c.prepareStatement("INSERT INTO requests (id, subdomain, localport, url, logged_at) "
        + "VALUES (?, 'web', 3000, '/', ?)")) {
      for (int i = 0; i < 10; i++) {
        String id = (char) ('z' - i / 2 * 2 - (1 - i % 2)) + "-req"; // y, z, w, x, ...: later seconds, smaller ids
        s.setString(1, id);
        s.setString(2, "2026-12-05 06:00:0" + (i / 2) + "+00:00");
        s.executeUpdate();
        oldestFirst.add(id);
      }
    }
    try (Statement s = c.createStatement()) {
      s.execute("UPDATE requests SET porthole_tunnel_id = 't1'");
    }
    return oldestFirst;
  }

  private static List<String> ids(Connection c, String query) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); var rs = s.executeQuery(query)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void the_first_written_go_with_their_closed_sessions() throws Exception {
    try (Connection c = Schema.open(dir.resolve("db.sqlite").toString(), true, false, 5000)) {
      List<String> ids = seed(c);
      try (Statement s = c.createStatement()) {
        // a closed and an open session on the 2nd oldest, a closed one on the 6th
        s.execute("INSERT INTO web_socket_sessions (id, handshake_request_id, closed_at) VALUES ('s-closed', '"
            + ids.get(1) + "', '2026-12-05 06:00:09+00:00'), ('s-open', '" + ids.get(1) + "', NULL), ('s-later', '"
            + ids.get(5) + "', '2026-12-05 06:00:09+00:00')");
        s.execute("INSERT INTO web_socket_events (id, session_id) VALUES ('e1', 's-closed'), ('e2', 's-open'), "
            + "('e3', 's-later')");
      }
      assertThat(Store.deleteOldest(c, 3)).isEqualTo(3);
      assertThat(ids(c, "SELECT id FROM requests ORDER BY rowid")).containsExactlyElementsOf(ids.subList(3, 10));
      assertThat(ids(c, "SELECT id FROM web_socket_sessions ORDER BY id")).containsExactly("s-later", "s-open");
      assertThat(ids(c, "SELECT id FROM web_socket_events ORDER BY id")).containsExactly("e2", "e3");

      assertThat(Store.deleteOldest(c, 100)).isEqualTo(7); // more than there are: all of them
      assertThat(ids(c, "SELECT COUNT(*) FROM requests")).containsExactly("0");
    }
  }

  @Test
  void rows_go_in_the_order_they_were_written_whatever_time_they_carry() throws Exception {
    try (Connection c = Schema.open(dir.resolve("db.sqlite").toString(), true, false, 5000)) {
      List<String> ids = seed(c);
      try (Statement s = c.createStatement()) {
        // another program's rows after ours: one without a time, one from a clock set back a year
        s.execute("INSERT INTO requests (id, subdomain, localport, url, logged_at) VALUES ('untimed', 'web', 3000, "
            + "'/', NULL), ('set-back', 'web', 3000, '/', '2025-12-05 06:00:00+00:00')");
      }
      List<String> written = new ArrayList<>(ids);
      written.add("untimed");
      written.add("set-back");
      assertThat(Store.deleteOldest(c, 2)).isEqualTo(2);
      assertThat(ids(c, "SELECT id FROM requests ORDER BY rowid")).containsExactlyElementsOf(written.subList(2, 12));
      assertThat(Store.deleteOldest(c, 9)).isEqualTo(9);
      assertThat(ids(c, "SELECT id FROM requests ORDER BY rowid")).containsExactly("set-back");
    }
  }
}
