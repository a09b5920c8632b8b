package dev.porthole.requestlog;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteException;

/**
 * Portr's request-log schema, exactly as gorm's AutoMigrate with the glebarez/sqlite dialect
 * creates it from Portr's structs (internal/client/db/db.go: string → text, int → integer, bool →
 * numeric, time → datetime, []byte → blob, datatypes.JSON → JSON, the primary key as a table
 * constraint, indexes created after the table under gorm's names). {@code IF NOT EXISTS} everywhere,
 * so a database Portr made is used as it is and Portr's AutoMigrate finds nothing to change in ours.
 * Plus porthole's tunnel column on Portr's table and the indexes its queries need, which Portr ignores.
 */
public final class Schema {
  private Schema() {
  }

  /** Portr's {@code SQLITE_PRAGMAS}, in its order. */
  public static final List<String> PRAGMAS = List.of(
      "PRAGMA foreign_keys = ON;",
      "PRAGMA journal_mode = WAL;",
      "PRAGMA synchronous = NORMAL;",
      "PRAGMA busy_timeout = 5000;",
      "PRAGMA temp_store = MEMORY;",
      "PRAGMA mmap_size = 134217728;",
      "PRAGMA journal_size_limit = 67108864;",
      "PRAGMA cache_size = 2000;");

  /** The tables and indexes gorm creates for Portr's three structs. */
  public static final List<String> PORTR_DDL = List.of(
      "CREATE TABLE IF NOT EXISTS `requests` (`id` text,`subdomain` text,`localport` integer,`host` text,"
          + "`url` text,`method` text,`headers` JSON,`body` blob,`response_headers` JSON,`response_body` blob,"
          + "`response_status_code` integer,`logged_at` datetime,`is_replayed` numeric,`parent_id` text,"
          + "`duration_ms` integer,`bytes_in` integer,`bytes_out` integer,`protocol` text,PRIMARY KEY (`id`))",
      "CREATE INDEX IF NOT EXISTS `idx_requests_tunnel` ON `requests`(`subdomain`,`localport`,`logged_at`)",
      "CREATE TABLE IF NOT EXISTS `web_socket_sessions` (`id` text,`handshake_request_id` text,`subdomain` text,"
          + "`localport` integer,`host` text,`url` text,`method` text,`request_headers` JSON,"
          + "`response_status_code` integer,`response_headers` JSON,`started_at` datetime,`last_event_at` datetime,"
          + "`closed_at` datetime,`close_code` integer,`close_reason` text,`event_count` integer,"
          + "`client_event_count` integer,`server_event_count` integer,PRIMARY KEY (`id`))",
      "CREATE INDEX IF NOT EXISTS `idx_websocket_sessions_tunnel` ON `web_socket_sessions`(`subdomain`,`localport`)",
      "CREATE INDEX IF NOT EXISTS `idx_web_socket_sessions_handshake_request_id` ON `web_socket_sessions`"
          + "(`handshake_request_id`)",
      "CREATE INDEX IF NOT EXISTS `idx_web_socket_sessions_started_at` ON `web_socket_sessions`(`started_at`)",
      "CREATE TABLE IF NOT EXISTS `web_socket_events` (`id` text,`session_id` text,`direction` text,`opcode` integer,"
          + "`opcode_name` text,`is_final` numeric,`payload` blob,`payload_length` integer,`logged_at` datetime,"
          + "PRIMARY KEY (`id`))",
      "CREATE INDEX IF NOT EXISTS `idx_web_socket_events_session_id` ON `web_socket_events`(`session_id`)",
      "CREATE INDEX IF NOT EXISTS `idx_web_socket_events_logged_at` ON `web_socket_events`(`logged_at`)");

  /**
   * porthole's own column on Portr's table: which tunnel of the app-server carried each request it
   * captured (NULL for Portr's rows). A column rather than a table of its own: a side table cost a
   * B-tree write on every capture and a B-tree delete on every prune, about 15 % of the writer
   * (bench W1). gorm's AutoMigrate leaves columns it does not know alone, and Portr names its
   * columns in every statement.
   */
  static final String TUNNEL_COLUMN = "porthole_tunnel_id";

  /**
   * porthole's index on Portr's table: a subdomain's rows in the order they were written (SQLite
   * keeps each entry's rowid after its key), for the list API's {@code subdomain} filter and
   * {@code porthole logs}. The list without it, and the row cap's prune, go by the table's own rowid
   * order; earlier versions kept two indexes in {@code (logged_at, id)} order, which cost a sixth of
   * the writer's CPU per capture (bench W1).
   */
  public static final List<String> PORTHOLE_DDL = List.of(
      "CREATE INDEX IF NOT EXISTS idx_porthole_requests_subdomain_rowid ON requests(subdomain)");

  /** The indexes of earlier porthole versions, dropped at open. */
  static final List<String> FORMER_INDEXES = List.of("idx_porthole_requests_logged", "idx_porthole_requests_subdomain");

  /**
   * Gives Portr's table porthole's tunnel column when it has none (a new file, one Portr made, or
   * one whose table Portr's migration rebuilt), and moves the side table of earlier porthole
   * versions ({@code porthole_requests}: request id → tunnel id, in either of its layouts) into it,
   * keeping each request's tunnel; drops the {@link #FORMER_INDEXES}. Each step in one
   * transaction, its check repeated under the write lock, so two writers opening the file at once
   * do it once.
   */
  static void migrate(Connection c) throws SQLException {
    if (!hasTunnelColumn(c)) {
      underWriteLock(c, () -> {
        if (!hasTunnelColumn(c)) {
          try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE requests ADD COLUMN " + TUNNEL_COLUMN + " TEXT");
          }
        }
      });
    }
    for (String index : FORMER_INDEXES) {
      if (exists(c, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = '" + index + "'")) {
        underWriteLock(c, () -> {
          try (Statement s = c.createStatement()) {
            s.execute("DROP INDEX IF EXISTS " + index);
          }
        });
      }
    }
    if (exists(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'porthole_requests'")) {
      underWriteLock(c, () -> {
        if (!exists(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'porthole_requests'")) {
          return;
        }
        try (Statement s = c.createStatement()) {
          s.execute("UPDATE requests SET " + TUNNEL_COLUMN + " = (SELECT p.tunnel_id FROM porthole_requests p "
              + "WHERE p.request_id = requests.id LIMIT 1) WHERE " + TUNNEL_COLUMN + " IS NULL "
              + "AND id IN (SELECT request_id FROM porthole_requests)");
          s.execute("DROP TABLE porthole_requests"); // with its indexes
          if (exists(c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")) {
            s.execute("DELETE FROM sqlite_sequence WHERE name = 'porthole_requests'");
          }
        }
      });
    }
  }

  private interface Step {
    void run() throws SQLException;
  }

  /** Runs {@code step} in a transaction that takes the write lock first ({@code BEGIN IMMEDIATE}). */
  private static void underWriteLock(Connection c, Step step) throws SQLException {
    boolean auto = c.getAutoCommit();
    try (Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      s.execute("BEGIN IMMEDIATE");
      try {
        step.run();
        s.execute("COMMIT");
      } catch (SQLException | RuntimeException e) {
        try {
          s.execute("ROLLBACK");
        } catch (SQLException ignored) {
          // the failure above is the one to report
        }
        throw e;
      }
    } finally {
      c.setAutoCommit(auto);
    }
  }

  private static boolean hasTunnelColumn(Connection c) throws SQLException {
    return exists(c, "SELECT 1 FROM pragma_table_info('requests') WHERE name = '" + TUNNEL_COLUMN + "'");
  }

  private static boolean exists(Connection c, String query) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
      return rs.next();
    }
  }

  /**
   * Opens a connection with Portr's pragmas ({@code busy_timeout} may be shortened by tests).
   *
   * @param create whether to create the tables (the writer) or leave the file as it is (readers)
   */
  static Connection open(String path, boolean create, boolean readOnly, int busyTimeoutMs) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(readOnly);
    // sqlite-jdbc otherwise runs a second statement (last_insert_rowid) after every insert.
    config.setGetGeneratedKeys(false);
    Properties props = config.toProperties();
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + path, props);
    try (Statement s = c.createStatement()) {
      for (String pragma : PRAGMAS) {
        if (readOnly && pragma.contains("journal_mode")) {
          continue; // changing the journal mode is a write
        }
        s.execute(pragma.startsWith("PRAGMA busy_timeout") ? "PRAGMA busy_timeout = " + busyTimeoutMs + ";" : pragma);
      }
      if (create) {
        for (String ddl : PORTR_DDL) {
          s.execute(ddl);
        }
        migrate(c);
        for (String ddl : PORTHOLE_DDL) {
          s.execute(ddl);
        }
      }
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** SQLite's own message ({@code attempt to write a readonly database}), without the driver's decoration. */
  static String message(SQLException e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage();
    if (e instanceof SQLiteException) {
      int open = m.lastIndexOf('(');
      if (m.endsWith(")") && open >= 0) {
        return m.substring(open + 1, m.length() - 1);
      }
    }
    return m;
  }
}
