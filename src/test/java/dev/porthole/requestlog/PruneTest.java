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

/** {@link Store#deleteOldest} on a real file: exactly the oldest by (logged_at, id), and what hangs on them. */
class PruneTest {
  @TempDir
  Path dir;

  /** Ten requests, two to a second (so ties in logged_at go by id), ids not in time order. */
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
  void the_oldest_go_with_their_closed_sessions_and_ties_go_by_id() throws Exception {
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
      assertThat(ids(c, "SELECT id FROM requests ORDER BY logged_at, id")).containsExactlyElementsOf(ids.subList(3, 10));
      assertThat(ids(c, "SELECT id FROM web_socket_sessions ORDER BY id")).containsExactly("s-later", "s-open");
      assertThat(ids(c, "SELECT id FROM web_socket_events ORDER BY id")).containsExactly("e2", "e3");

      assertThat(Store.deleteOldest(c, 100)).isEqualTo(7); // more than there are: all of them
      assertThat(ids(c, "SELECT COUNT(*) FROM requests")).containsExactly("0");
    }
  }

  @Test
  void rows_another_program_left_without_a_time_sort_first_and_go_first() throws Exception {
    try (Connection c = Schema.open(dir.resolve("db.sqlite").toString(), true, false, 5000)) {
      List<String> ids = seed(c);
      try (Statement s = c.createStatement()) {
        s.execute("INSERT INTO requests (id, subdomain, localport, url, logged_at) VALUES ('untimed', 'web', 3000, "
            + "'/', NULL)");
      }
      assertThat(Store.deleteOldest(c, 2)).isEqualTo(2);
      List<String> left = new ArrayList<>(ids.subList(1, 10));
      assertThat(ids(c, "SELECT id FROM requests ORDER BY logged_at, id")).containsExactlyElementsOf(left);
      assertThat(Store.deleteOldest(c, 4)).isEqualTo(4);
      assertThat(ids(c, "SELECT id FROM requests ORDER BY logged_at, id")).containsExactlyElementsOf(ids.subList(5, 10));
    }
  }
}
