package dev.porthole.requestlog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * The writer's connection with its prepared statements kept for the connection's life: SQLite
 * parses and plans a statement on every {@code prepareStatement}, which cost as much as the insert
 * itself on the capture path. One thread uses it (the writer's).
 */
final class Prepared implements AutoCloseable {
  private final Connection connection;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  Prepared(Connection connection) {
    this.connection = connection;
  }

  Connection connection() {
    return connection;
  }

  /** The statement for {@code sql}, prepared on first use, its parameters cleared. */
  PreparedStatement get(String sql) throws SQLException {
    PreparedStatement s = statements.get(sql);
    if (s == null) {
      s = connection.prepareStatement(sql);
      statements.put(sql, s);
    } else {
      s.clearParameters();
    }
    return s;
  }

  /** Closes the statements and the connection. */
  @Override
  public void close() throws SQLException {
    for (PreparedStatement s : statements.values()) {
      try {
        s.close();
      } catch (SQLException ignored) {
        // closing with the connection anyway
      }
    }
    statements.clear();
    connection.close();
  }
}
