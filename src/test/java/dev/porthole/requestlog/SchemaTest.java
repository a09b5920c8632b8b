package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaTest {
  /** What gorm's AutoMigrate (glebarez/sqlite) runs for Portr's three structs, verbatim. */
  static final List<String> GORM_DDL = List.of(
      "CREATE TABLE `requests` (`id` text,`subdomain` text,`localport` integer,`host` text,`url` text,`method` text,"
          + "`headers` JSON,`body` blob,`response_headers` JSON,`response_body` blob,`response_status_code` integer,"
          + "`logged_at` datetime,`is_replayed` numeric,`parent_id` text,`duration_ms` integer,`bytes_in` integer,"
          + "`bytes_out` integer,`protocol` text,PRIMARY KEY (`id`))",
      "CREATE INDEX `idx_requests_tunnel` ON `requests`(`subdomain`,`localport`,`logged_at`)",
      "CREATE TABLE `web_socket_sessions` (`id` text,`handshake_request_id` text,`subdomain` text,`localport` integer,"
          + "`host` text,`url` text,`method` text,`request_headers` JSON,`response_status_code` integer,"
          + "`response_headers` JSON,`started_at` datetime,`last_event_at` datetime,`closed_at` datetime,"
          + "`close_code` integer,`close_reason` text,`event_count` integer,`client_event_count` integer,"
          + "`server_event_count` integer,PRIMARY KEY (`id`))",
      "CREATE INDEX `idx_websocket_sessions_tunnel` ON `web_socket_sessions`(`subdomain`,`localport`)",
      "CREATE INDEX `idx_web_socket_sessions_handshake_request_id` ON `web_socket_sessions`(`handshake_request_id`)",
      "CREATE INDEX `idx_web_socket_sessions_started_at` ON `web_socket_sessions`(`started_at`)",
      "CREATE TABLE `web_socket_events` (`id` text,`session_id` text,`direction` text,`opcode` integer,"
          + "`opcode_name` text,`is_final` numeric,`payload` blob,`payload_length` integer,`logged_at` datetime,"
          + "PRIMARY KEY (`id`))",
      "CREATE INDEX `idx_web_socket_events_session_id` ON `web_socket_events`(`session_id`)",
      "CREATE INDEX `idx_web_socket_events_logged_at` ON `web_socket_events`(`logged_at`)");

  static Path portrDb(Path dir) throws SQLException {
    Path file = dir.resolve("portr.sqlite");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
      for (String ddl : GORM_DDL) {
        s.execute(ddl);
      }
    }
    return file;
  }

  @Test
  void porthole_creates_portrs_tables_columns_types_and_indexes(@TempDir Path dir) throws Exception {
    Path ours = dir.resolve("ours.sqlite");
    Schema.open(ours.toString(), true, false, 5000).close();
    Path theirs = portrDb(dir);
    for (String table : List.of("web_socket_sessions", "web_socket_events")) {
      assertThat(describe(ours, table)).as(table).isEqualTo(describe(theirs, table));
      assertThat(sql(ours, table)).isEqualTo(sql(theirs, table));
    }
    // Portr's table as gorm makes it, plus porthole's column after Portr's last one (added as
    // ALTER TABLE adds it, so a file Portr made ends up the same)
    assertThat(describe(ours, "requests")).isEqualTo(withTunnelColumn(describe(theirs, "requests")));
    assertThat(sql(ours, "requests")).isEqualTo(sql(theirs, "requests")
        .replace("`protocol` text,", "`protocol` text, porthole_tunnel_id TEXT,"));
    // Portr's indexes, named as gorm names them, with their columns in order
    for (String index : List.of("idx_requests_tunnel", "idx_websocket_sessions_tunnel",
        "idx_web_socket_sessions_handshake_request_id", "idx_web_socket_sessions_started_at",
        "idx_web_socket_events_session_id", "idx_web_socket_events_logged_at")) {
      assertThat(rows(ours, "PRAGMA index_info(`" + index + "`)")).as(index)
          .isEqualTo(rows(theirs, "PRAGMA index_info(`" + index + "`)")).isNotEmpty();
      assertThat(sql(ours, index)).isEqualTo(sql(theirs, index));
    }
  }

  @Test
  void a_database_portr_made_is_used_as_it_is_with_portholes_column_and_indexes_added(@TempDir Path dir)
      throws Exception {
    Path theirs = portrDb(dir);
    List<String> before = rows(theirs, "SELECT sql FROM sqlite_master WHERE name NOT LIKE '%porthole%' "
        + "AND name NOT IN ('sqlite_sequence', 'requests') ORDER BY name");
    List<String> requests = describe(theirs, "requests");
    String requestsSql = sql(theirs, "requests");
    Schema.open(theirs.toString(), true, false, 5000).close();
    assertThat(rows(theirs, "SELECT sql FROM sqlite_master WHERE name NOT LIKE '%porthole%' "
        + "AND name NOT IN ('sqlite_sequence', 'requests') ORDER BY name")).isEqualTo(before);
    assertThat(describe(theirs, "requests")).isEqualTo(withTunnelColumn(requests));
    assertThat(sql(theirs, "requests"))
        .isEqualTo(requestsSql.replace("`protocol` text,", "`protocol` text, porthole_tunnel_id TEXT,"));
    assertThat(rows(theirs, "PRAGMA journal_mode")).containsExactly("wal");
    assertThat(rows(theirs, "SELECT name FROM sqlite_master WHERE name LIKE '%porthole%' ORDER BY name"))
        .containsExactly("idx_porthole_requests_subdomain_rowid");
    // a second open finds it current
    Schema.open(theirs.toString(), true, false, 5000).close();
    assertThat(describe(theirs, "requests")).isEqualTo(withTunnelColumn(requests));
  }

  /** Both layouts of the side table earlier porthole versions kept (request id → tunnel id). */
  static final List<List<String>> SIDE_TABLES = List.of(
      List.of("CREATE TABLE porthole_requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
          + "request_id TEXT NOT NULL UNIQUE, tunnel_id TEXT NOT NULL, logged_at datetime NOT NULL)",
          "CREATE INDEX idx_porthole_requests_tunnel ON porthole_requests(tunnel_id, logged_at, request_id)",
          "INSERT INTO porthole_requests (request_id, tunnel_id, logged_at) VALUES "
              + "('r1', 't1', '2026-01-01 00:00:00+00:00'), ('r2', 't2', '2026-01-01 00:00:01+00:00'), "
              + "('gone', 't9', '2026-01-01 00:00:02+00:00')"),
      List.of("CREATE TABLE porthole_requests (request_id TEXT PRIMARY KEY, tunnel_id TEXT NOT NULL) WITHOUT ROWID",
          "CREATE INDEX idx_porthole_requests_logged ON requests(logged_at, id)",
          "INSERT INTO porthole_requests (request_id, tunnel_id) VALUES ('r1', 't1'), ('r2', 't2'), ('gone', 't9')"));

  @Test
  void a_side_table_of_an_earlier_version_moves_into_the_column_keeping_each_requests_tunnel(@TempDir Path dir)
      throws Exception {
    for (List<String> layout : SIDE_TABLES) {
      Path db = dir.resolve(SIDE_TABLES.indexOf(layout) + ".sqlite");
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
        for (String ddl : GORM_DDL) {
          s.execute(ddl);
        }
        s.execute("INSERT INTO requests (id, subdomain) VALUES ('r1', 'a'), ('r2', 'b'), ('portrs', 'c')");
        for (String sql : layout) {
          s.execute(sql);
        }
      }
      for (int open = 0; open < 2; open++) { // the second open finds it current
        Schema.open(db.toString(), true, false, 5000).close();
        assertThat(rows(db, "SELECT id, porthole_tunnel_id FROM requests ORDER BY id")).as(layout.get(0))
            .containsExactly("portrs|null", "r1|t1", "r2|t2");
        assertThat(rows(db, "SELECT name FROM sqlite_master WHERE name LIKE '%porthole%' ORDER BY name"))
            .containsExactly("idx_porthole_requests_subdomain_rowid");
        assertThat(rows(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"))
            .containsExactly(layout == SIDE_TABLES.get(0) ? "1" : "0");
        if (layout == SIDE_TABLES.get(0)) {
          assertThat(rows(db, "SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'porthole_requests'"))
              .containsExactly("0");
        }
      }
    }
  }

  /** Portr's table description with porthole's column after Portr's last one. */
  private static List<String> withTunnelColumn(List<String> portrs) {
    List<String> out = new ArrayList<>(portrs);
    out.add(out.indexOf("indexes:"), "18|porthole_tunnel_id|TEXT|0|null|0");
    return out;
  }

  @Test
  void every_listing_walks_rows_newest_first_as_written_without_sorting(@TempDir Path dir) throws Exception {
    Path db = dir.resolve("db.sqlite");
    Schema.open(db.toString(), true, false, 5000).close();
    for (Store.Cursor before : java.util.Arrays.asList(null, new Store.Cursor(42))) {
      for (String filter : java.util.Arrays.asList(null, "hooks")) {
        for (String tunnel : java.util.Arrays.asList(null, "t1")) {
          for (String subdomain : java.util.Arrays.asList(null, "web")) {
            Store.Query q = Store.listQuery(tunnel, subdomain, filter, 50, before);
            List<String> plan = plan(db, q);
            assertThat(plan).as("%s", q.sql()).noneSatisfy(step -> assertThat(step).contains("TEMP B-TREE"));
            if (subdomain != null) {
              assertThat(plan).as("%s", q.sql()).anySatisfy(step -> assertThat(step)
                  .matches("SEARCH r USING (COVERING )?INDEX idx_porthole_requests_subdomain_rowid \\(subdomain=\\?.*"));
            }
          }
        }
      }
    }
  }

  @Test
  void closing_the_sessions_an_earlier_run_left_open_looks_requests_up_by_id(@TempDir Path dir) throws Exception {
    Path db = dir.resolve("db.sqlite");
    Schema.open(db.toString(), true, false, 5000).close();
    List<String> plan = plan(db, new Store.Query(Store.CLOSE_LEFT_OPEN, List.of()));
    assertThat(plan).as("no scan of the requests table").noneMatch(step -> step.startsWith("SCAN r"));
    assertThat(plan).anySatisfy(step -> assertThat(step).startsWith("SEARCH r USING INDEX sqlite_autoindex_requests_1 (id=?)"));
  }

  @Test
  void the_time_ordered_indexes_of_earlier_versions_are_dropped(@TempDir Path dir) throws Exception {
    Path db = dir.resolve("db.sqlite");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      for (String ddl : GORM_DDL) {
        s.execute(ddl);
      }
      s.execute("ALTER TABLE requests ADD COLUMN porthole_tunnel_id TEXT");
      s.execute("CREATE INDEX idx_porthole_requests_logged ON requests(logged_at, id)");
      s.execute("CREATE INDEX idx_porthole_requests_subdomain ON requests(subdomain, logged_at, id)");
      s.execute("INSERT INTO requests (id, subdomain, logged_at) VALUES ('r1', 'a', '2026-01-01 00:00:00+00:00')");
    }
    for (int open = 0; open < 2; open++) {
      Schema.open(db.toString(), true, false, 5000).close();
      assertThat(rows(db, "SELECT name FROM sqlite_master WHERE name LIKE '%porthole%' ORDER BY name"))
          .containsExactly("idx_porthole_requests_subdomain_rowid");
      assertThat(rows(db, "SELECT id FROM requests")).containsExactly("r1");
    }
  }

  private static List<String> plan(Path db, Store.Query q) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        java.sql.PreparedStatement s = c.prepareStatement("EXPLAIN QUERY PLAN " + q.sql())) {
      Store.bind(s, q.args());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString("detail"));
        }
      }
    }
    return out;
  }

  @Test
  void pragmas_are_portrs_in_order() {
    assertThat(Schema.PRAGMAS).containsExactly("PRAGMA foreign_keys = ON;", "PRAGMA journal_mode = WAL;",
        "PRAGMA synchronous = NORMAL;", "PRAGMA busy_timeout = 5000;", "PRAGMA temp_store = MEMORY;",
        "PRAGMA mmap_size = 134217728;", "PRAGMA journal_size_limit = 67108864;", "PRAGMA cache_size = 2000;");
  }

  private static String sql(Path db, String name) throws SQLException {
    return rows(db, "SELECT sql FROM sqlite_master WHERE name = '" + name + "'").get(0);
  }

  private static List<String> describe(Path db, String table) throws SQLException {
    List<String> out = rows(db, "PRAGMA table_info(`" + table + "`)");
    out.add("indexes:");
    out.addAll(rows(db, "SELECT name, origin, \"unique\" FROM pragma_index_list('" + table + "') "
        + "WHERE name NOT LIKE 'idx_porthole%' ORDER BY name"));
    return out;
  }

  static List<String> rows(Path db, String query) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          b.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        out.add(b.toString());
      }
    }
    return out;
  }
}
