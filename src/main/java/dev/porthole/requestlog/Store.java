package dev.porthole.requestlog;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.bus.Capture;
import dev.porthole.bus.JsonBody;
import dev.porthole.bus.Times;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The SQL of the request log: writes (the writer's connection) and queries (a reader's). */
final class Store {
  private Store() {
  }

  static final int QUERY_TIMEOUT_S = 5;
  /** Events in a detail item, at most. */
  static final int MAX_EVENTS = 1000;
  /** Payload bytes (as stored) of a detail item's events, at most; the later events come without theirs. */
  static final long DETAIL_PAYLOAD_BUDGET = 4L << 20;
  /** Event rows stored per WebSocket session, at most (its counters count every frame). */
  static final long MAX_SESSION_EVENTS = 10_000;

  // ---- writes ----

  /** Portr's columns and porthole's tunnel ({@link Schema#TUNNEL_COLUMN}). */
  static final String INSERT_REQUEST = "INSERT INTO requests (id,subdomain,localport,host,url,method,headers,body,"
      + "response_headers,response_body,response_status_code,logged_at,is_replayed,parent_id,duration_ms,bytes_in,"
      + "bytes_out,protocol," + Schema.TUNNEL_COLUMN + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  /**
   * Exchanges one INSERT writes at once when the batch has that many in a row: SQLite runs one
   * statement for them instead of one each (about a tenth of the writer's CPU per capture).
   */
  static final int ROWS_PER_INSERT = 16;
  private static final int REQUEST_COLUMNS = 19;
  private static final String INSERT_REQUESTS = rows(INSERT_REQUEST, ROWS_PER_INSERT);

  /** {@code insert} with its one row of placeholders repeated {@code n} times. */
  private static String rows(String insert, int n) {
    int values = insert.indexOf("VALUES ") + "VALUES ".length();
    String row = insert.substring(values);
    StringBuilder sql = new StringBuilder(insert);
    for (int i = 1; i < n; i++) {
      sql.append(',').append(row);
    }
    return sql.toString();
  }

  /** Writes one exchange. */
  static void insertExchange(Prepared c, Capture.Exchange e, String loggedAt) throws SQLException {
    PreparedStatement s = c.get(INSERT_REQUEST);
    bindRequest(s, 0, e, loggedAt);
    s.executeUpdate();
  }

  /**
   * Writes {@link #ROWS_PER_INSERT} exchanges in one statement; all or none (a duplicate id fails
   * it, and the caller writes them one by one).
   */
  static void insertExchanges(Prepared c, List<Capture.Exchange> es, List<String> loggedAt) throws SQLException {
    if (es.size() != ROWS_PER_INSERT || loggedAt.size() != ROWS_PER_INSERT) {
      throw new IllegalArgumentException("insertExchanges takes " + ROWS_PER_INSERT + " exchanges");
    }
    PreparedStatement s = c.get(INSERT_REQUESTS);
    for (int i = 0; i < ROWS_PER_INSERT; i++) {
      bindRequest(s, i * REQUEST_COLUMNS, es.get(i), loggedAt.get(i));
    }
    s.executeUpdate();
  }

  /** Binds one request row's {@value #REQUEST_COLUMNS} columns after the first {@code at} parameters. */
  private static void bindRequest(PreparedStatement s, int at, Capture.Exchange e, String loggedAt)
      throws SQLException {
    s.setString(at + 1, e.id());
    s.setString(at + 2, e.subdomain());
    s.setInt(at + 3, e.localport());
    s.setString(at + 4, e.host());
    s.setString(at + 5, e.url());
    s.setString(at + 6, e.method());
    s.setString(at + 7, GoFormats.headersJson(e.requestHeaders()));
    s.setBytes(at + 8, e.requestBody());
    s.setString(at + 9, GoFormats.headersJson(e.responseHeaders()));
    s.setBytes(at + 10, e.responseBody());
    s.setInt(at + 11, e.status());
    s.setString(at + 12, loggedAt);
    s.setInt(at + 13, e.replayed() ? 1 : 0);
    s.setString(at + 14, e.parentId());
    s.setLong(at + 15, e.durationMs());
    s.setLong(at + 16, e.bytesIn());
    s.setLong(at + 17, e.bytesOut());
    s.setString(at + 18, e.protocol());
    s.setString(at + 19, e.tunnelId());
  }

  /** Portr's {@code logWebSocketSessionWithID}: the session with zero counters, open. */
  static void insertSession(Prepared c, Capture.WsOpen o, String now) throws SQLException {
    {
      PreparedStatement s = c.get("INSERT INTO web_socket_sessions (id,handshake_request_id,subdomain,"
        + "localport,host,url,method,request_headers,response_status_code,response_headers,started_at,last_event_at,"
        + "closed_at,close_code,close_reason,event_count,client_event_count,server_event_count) "
        + "VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,'',0,0,0)");
      s.setString(1, o.sessionId());
      s.setString(2, o.handshakeRequestId());
      s.setString(3, o.subdomain());
      s.setInt(4, o.localport());
      s.setString(5, o.host());
      s.setString(6, o.url());
      s.setString(7, o.method());
      s.setString(8, GoFormats.headersJson(o.requestHeaders()));
      s.setInt(9, o.status());
      s.setString(10, GoFormats.headersJson(o.responseHeaders()));
      s.setString(11, now);
      s.executeUpdate();
    }
  }

  static String opcodeName(int opcode) {
    return switch (opcode) {
      case 0x0 -> "continuation";
      case 0x1 -> "text";
      case 0x2 -> "binary";
      case 0x8 -> "close";
      case 0x9 -> "ping";
      case 0xA -> "pong";
      default -> "unknown";
    };
  }

  /**
   * Portr's {@code recordWebSocketEvent}: the session's counters (and close on opcode 8), then the
   * event. No event for a session that is not (or no longer) there, and none past {@link
   * #MAX_SESSION_EVENTS} of its session: the counters go on exact, the rows stop.
   */
  static void insertFrame(Prepared c, Capture.WsFrame f, String now) throws SQLException {
    String counter = "client".equals(f.direction()) ? "client_event_count" : "server_event_count";
    StringBuilder sql = new StringBuilder("UPDATE web_socket_sessions SET last_event_at=?, event_count=event_count+1, ")
        .append(counter).append('=').append(counter).append("+1");
    byte[] p = f.payload();
    boolean close = f.opcode() == 0x8;
    if (close) {
      sql.append(", closed_at=?");
      if (p.length >= 2) {
        sql.append(", close_code=?");
        if (p.length > 2) {
          sql.append(", close_reason=?");
        }
      }
    }
    sql.append(" WHERE id=? RETURNING event_count");
    long count;
    {
      PreparedStatement s = c.get(sql.toString());
      int i = 1;
      s.setString(i++, now);
      if (close) {
        s.setString(i++, now);
        if (p.length >= 2) {
          s.setInt(i++, ((p[0] & 0xFF) << 8) | (p[1] & 0xFF));
          if (p.length > 2) {
            s.setString(i++, new String(p, 2, p.length - 2, StandardCharsets.UTF_8));
          }
        }
      }
      s.setString(i, f.sessionId());
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return; // its session was deleted (or never written): an event would be an orphan
        }
        count = rs.getLong(1);
      }
    }
    if (count > MAX_SESSION_EVENTS) {
      return;
    }
    {
      PreparedStatement s = c.get("INSERT INTO web_socket_events (id,session_id,direction,opcode,"
          + "opcode_name,is_final,payload,payload_length,logged_at) VALUES (?,?,?,?,?,?,?,?,?)");
      s.setString(1, UlidCreator.getMonotonicUlid().toString());
      s.setString(2, f.sessionId());
      s.setString(3, f.direction());
      s.setInt(4, f.opcode());
      s.setString(5, opcodeName(f.opcode()));
      s.setInt(6, f.fin() ? 1 : 0);
      s.setBytes(7, f.payload());
      s.setLong(8, f.payloadLength());
      s.setString(9, now);
      s.executeUpdate();
    }
  }

  /** Portr's {@code closeWebSocketSession}: closed_at once, the reason only for an error. */
  static void closeSession(Prepared c, Capture.WsClose w, String now) throws SQLException {
    boolean reason = !w.reason().isEmpty();
    {
      PreparedStatement s = c.get("UPDATE web_socket_sessions SET closed_at=?"
          + (reason ? ", close_reason=?" : "") + " WHERE id=? AND closed_at IS NULL");
      int i = 1;
      s.setString(i++, now);
      if (reason) {
        s.setString(i++, w.reason());
      }
      s.setString(i, w.sessionId());
      s.executeUpdate();
    }
  }

  static long count(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM requests")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  /**
   * Deletes the {@code n} requests written first (the table's rowid order: the order the rows went
   * in, whoever wrote them and whatever time they carry), with their closed WebSocket sessions (and
   * their events). The n-th row is looked up once and everything up to it goes by a rowid range of
   * the table itself: no index of porthole's has to keep the rows in time order for it (one B-tree
   * less to write per capture, about a sixth of the writer's CPU; bench W1).
   */
  static int deleteOldest(Connection c, long n) throws SQLException {
    Long upTo = null;
    try (PreparedStatement s = c.prepareStatement("SELECT rowid FROM requests ORDER BY rowid LIMIT 1 OFFSET ?")) {
      s.setLong(1, n - 1);
      try (ResultSet rs = s.executeQuery()) {
        if (rs.next()) {
          upTo = rs.getLong(1);
        }
      }
    }
    if (upTo == null) { // fewer than n: all of them
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT max(rowid) FROM requests")) {
        long max = rs.getLong(1);
        if (rs.wasNull()) {
          return 0;
        }
        upTo = max;
      }
    }
    if (exists(c, "SELECT 1 FROM web_socket_sessions WHERE closed_at IS NOT NULL")) {
      String closed = "SELECT id FROM web_socket_sessions WHERE closed_at IS NOT NULL AND handshake_request_id IN ("
          + "SELECT id FROM requests WHERE rowid <= ?)";
      update(c, "DELETE FROM web_socket_events WHERE session_id IN (" + closed + ")", upTo);
      update(c, "DELETE FROM web_socket_sessions WHERE id IN (" + closed + ")", upTo);
    }
    return update(c, "DELETE FROM requests WHERE rowid <= ?", upTo);
  }

  private static boolean exists(Connection c, String query) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query + " LIMIT 1")) {
      return rs.next();
    }
  }

  /**
   * Portr's {@code DeleteRequestsOlderThan} (closed sessions whose last activity is older, their
   * events, older requests).
   */
  static int deleteOlderThan(Connection c, Instant cutoff) throws SQLException {
    String t = GoFormats.dbTime(cutoff);
    int n = 0;
    String sessions = "closed_at IS NOT NULL AND COALESCE(last_event_at, started_at) < ?";
    n += update(c, "DELETE FROM web_socket_events WHERE session_id IN (SELECT id FROM web_socket_sessions WHERE "
        + sessions + ")", t);
    n += update(c, "DELETE FROM web_socket_sessions WHERE " + sessions, t);
    n += update(c, "DELETE FROM requests WHERE logged_at < ?", t);
    return n;
  }

  /**
   * Rows whose parent is gone (deleted by Portr's CLI, pruned by the cap or retention while its
   * session was open, or a frame that came after its session was deleted): sessions without their
   * handshake, events without their session.
   */
  static int deleteOrphans(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      int n = s.executeUpdate("DELETE FROM web_socket_sessions WHERE NOT EXISTS "
          + "(SELECT 1 FROM requests r WHERE r.id = web_socket_sessions.handshake_request_id)");
      return n + s.executeUpdate("DELETE FROM web_socket_events WHERE NOT EXISTS "
          + "(SELECT 1 FROM web_socket_sessions w WHERE w.id = web_socket_events.session_id)");
    }
  }

  /**
   * porthole's sessions still open in the file when the writer first opens it: an earlier process
   * left them (it was killed, or their close was dropped), so they end at their last activity.
   * Portr's open sessions (handshakes without a tunnel) may be live in Portr and are left alone.
   */
  static int closeLeftOpen(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      return s.executeUpdate(CLOSE_LEFT_OPEN);
    }
  }

  /**
   * Each open session's handshake looked up by its primary key: an {@code IN (SELECT id FROM
   * requests WHERE tunnel IS NOT NULL)} read the whole table at every start (the column has no
   * index), which with SQLite's mmap put up to 128 MiB of the file in the app-server's RSS.
   */
  static final String CLOSE_LEFT_OPEN = "UPDATE web_socket_sessions SET closed_at = COALESCE(last_event_at, started_at) "
      + "WHERE closed_at IS NULL AND EXISTS (SELECT 1 FROM requests r WHERE r.id = web_socket_sessions.handshake_request_id "
      + "AND r." + Schema.TUNNEL_COLUMN + " IS NOT NULL)";

  static int deleteByTunnel(Connection c, String tunnelId) throws SQLException {
    String ids = "SELECT id FROM requests WHERE " + Schema.TUNNEL_COLUMN + "=?";
    update(c, "DELETE FROM web_socket_events WHERE session_id IN (SELECT id FROM web_socket_sessions WHERE "
        + "handshake_request_id IN (" + ids + "))", tunnelId);
    update(c, "DELETE FROM web_socket_sessions WHERE handshake_request_id IN (" + ids + ")", tunnelId);
    return update(c, "DELETE FROM requests WHERE " + Schema.TUNNEL_COLUMN + "=?", tunnelId);
  }

  static int deleteBySubdomain(Connection c, String subdomain) throws SQLException {
    update(c, "DELETE FROM web_socket_events WHERE session_id IN (SELECT id FROM web_socket_sessions WHERE "
        + "subdomain=?)", subdomain);
    update(c, "DELETE FROM web_socket_sessions WHERE subdomain=?", subdomain);
    return update(c, "DELETE FROM requests WHERE subdomain=?", subdomain);
  }

  private static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        s.setObject(i + 1, args[i]);
      }
      return s.executeUpdate();
    }
  }

  // ---- queries ----

  static final String SUMMARY_COLUMNS = "r.id, r." + Schema.TUNNEL_COLUMN + " AS tunnel_id, r.subdomain, "
      + "r.localport, r.host, r.method, r.url, r.response_status_code, r.duration_ms, r.bytes_in, r.bytes_out, "
      + "r.protocol, r.logged_at, r.is_replayed, r.parent_id";

  /** A page of the list, newest first, and the cursor of its last row when there are more. */
  record Page(List<JsonObject> items, Cursor next) {
  }

  /**
   * A position in the list's order: newest first as written (the table's rowid, descending; a
   * row's {@code logged_at} is the time it was written, so this is time order too, with rows of the
   * same instant in the order they went in).
   */
  record Cursor(long rowid) {
    private static final String PREFIX = "row:";

    String encode() {
      return Base64.getUrlEncoder().withoutPadding().encodeToString((PREFIX + rowid).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException when it is not one of ours */
    static Cursor decode(String s) {
      String text;
      try {
        text = new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid cursor");
      }
      if (!text.startsWith(PREFIX) || text.length() == PREFIX.length() || text.length() > PREFIX.length() + 19
          || !text.substring(PREFIX.length()).chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
        throw new IllegalArgumentException("invalid cursor");
      }
      try {
        return new Cursor(Long.parseLong(text.substring(PREFIX.length())));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("invalid cursor");
      }
    }
  }

  /** A statement and its arguments (Integer, Long or String). */
  record Query(String sql, List<Object> args) {
  }

  /** The list's statement: its rows newest first, one more than {@code limit} (whether there is a next page). */
  static Query listQuery(String tunnelId, String subdomain, String filter, int limit, Cursor before) {
    boolean byTunnel = tunnelId != null && !tunnelId.isEmpty();
    StringBuilder sql = new StringBuilder("SELECT r.rowid AS _rowid, ").append(SUMMARY_COLUMNS).append(byTunnel
        ? " FROM requests r WHERE r." + Schema.TUNNEL_COLUMN + " = ?"
        : " FROM requests r WHERE 1=1");
    List<Object> args = new ArrayList<>();
    if (byTunnel) {
      args.add(tunnelId);
    }
    if (subdomain != null && !subdomain.isEmpty()) {
      sql.append(" AND r.subdomain = ?");
      args.add(subdomain);
    }
    if (filter != null && !filter.isBlank()) {
      sql.append(" AND LOWER(r.url) LIKE ? ESCAPE '\\'");
      args.add(likePattern(filter.strip()));
    }
    if (before != null) {
      sql.append(" AND r.rowid < ?");
      args.add(before.rowid());
    }
    sql.append(" ORDER BY r.rowid DESC LIMIT ?");
    args.add(limit + 1);
    return new Query(sql.toString(), args);
  }

  static Page list(Connection c, String tunnelId, String subdomain, String filter, int limit, Cursor before)
      throws SQLException {
    Query q = listQuery(tunnelId, subdomain, filter, limit, before);
    List<JsonObject> items = new ArrayList<>();
    Cursor next = null;
    try (PreparedStatement s = c.prepareStatement(q.sql())) {
      s.setQueryTimeout(QUERY_TIMEOUT_S);
      bind(s, q.args());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          if (items.size() == limit) {
            JsonObject last = items.get(items.size() - 1);
            next = new Cursor(last.getLong("_rowid"));
            break;
          }
          items.add(summary(rs, true));
        }
      }
    }
    items.forEach(i -> i.remove("_rowid"));
    return new Page(items, next);
  }

  /** The detail item, or null. */
  static JsonObject get(Connection c, String requestId) throws SQLException {
    JsonObject item;
    try (PreparedStatement s = c.prepareStatement("SELECT " + SUMMARY_COLUMNS + ", r.headers, r.response_headers, "
        + "r.body, r.response_body FROM requests r WHERE r.id = ?")) {
      s.setQueryTimeout(QUERY_TIMEOUT_S);
      s.setString(1, requestId);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        item = summary(rs, false);
        item.put("headers", headers(rs.getString("headers")));
        item.put("response_headers", headers(rs.getString("response_headers")));
        byte[] body = bytes(rs.getBytes("body"));
        byte[] responseBody = bytes(rs.getBytes("response_body"));
        bodies(item, body, item.getLong("bytes_in"), responseBody, item.getLong("bytes_out"));
      }
    }
    JsonObject ws = websocket(c, requestId);
    if (ws != null) {
      item.put("websocket", ws);
    }
    return item;
  }

  /** The detail item's body fields. */
  static void bodies(JsonObject item, byte[] body, long bytesIn, byte[] responseBody, long bytesOut) {
    Base64.Encoder b64 = Base64.getEncoder();
    item.put("body", b64.encodeToString(body));
    item.put("response_body", b64.encodeToString(responseBody));
    String text = GoFormats.utf8(body);
    if (text != null) {
      item.put("body_text", text);
    }
    String responseText = GoFormats.utf8(responseBody);
    if (responseText != null) {
      item.put("response_body_text", responseText);
    }
    item.put("body_truncated", body.length < bytesIn);
    item.put("response_body_truncated", responseBody.length < bytesOut);
  }

  private static JsonObject websocket(Connection c, String requestId) throws SQLException {
    JsonObject ws;
    try (PreparedStatement s = c.prepareStatement(
        "SELECT * FROM web_socket_sessions WHERE handshake_request_id = ? ORDER BY started_at LIMIT 1")) {
      s.setQueryTimeout(QUERY_TIMEOUT_S);
      s.setString(1, requestId);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        ws = new JsonObject()
            .put("id", str(rs, "id"))
            .put("handshake_request_id", str(rs, "handshake_request_id"))
            .put("subdomain", str(rs, "subdomain"))
            .put("localport", rs.getInt("localport"))
            .put("host", str(rs, "host"))
            .put("url", str(rs, "url"))
            .put("method", str(rs, "method"))
            .put("request_headers", headers(rs.getString("request_headers")))
            .put("status", rs.getInt("response_status_code"))
            .put("response_headers", headers(rs.getString("response_headers")))
            .put("started_at", time(rs.getString("started_at")));
        putTime(ws, "last_event_at", rs.getString("last_event_at"));
        putTime(ws, "closed_at", rs.getString("closed_at"));
        int code = rs.getInt("close_code");
        if (!rs.wasNull()) {
          ws.put("close_code", code);
        }
        String reason = str(rs, "close_reason");
        if (!reason.isEmpty()) {
          ws.put("close_reason", reason);
        }
        ws.put("event_count", rs.getLong("event_count"))
            .put("client_event_count", rs.getLong("client_event_count"))
            .put("server_event_count", rs.getLong("server_event_count"));
      }
    }
    JsonArray events = new JsonArray();
    // Payloads are read only while they fit the budget: 1 000 events of 1 MiB would be ~2 GB of JSON.
    try (PreparedStatement s = c.prepareStatement("SELECT id, direction, opcode, opcode_name, is_final, "
        + "length(payload) AS stored, payload, payload_length, logged_at FROM web_socket_events "
        + "WHERE session_id = ? ORDER BY logged_at, id LIMIT " + MAX_EVENTS)) {
      s.setQueryTimeout(QUERY_TIMEOUT_S);
      s.setString(1, ws.getString("id"));
      long budget = DETAIL_PAYLOAD_BUDGET;
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          JsonObject e = new JsonObject()
              .put("id", str(rs, "id"))
              .put("direction", str(rs, "direction"))
              .put("opcode", rs.getInt("opcode"))
              .put("opcode_name", str(rs, "opcode_name"))
              .put("is_final", rs.getInt("is_final") != 0);
          long stored = rs.getLong("stored");
          String text = null;
          if (budget >= 0 && stored <= budget) {
            budget -= stored;
            byte[] payload = bytes(rs.getBytes("payload"));
            e.put("payload", Base64.getEncoder().encodeToString(payload));
            text = GoFormats.utf8(payload);
          } else {
            budget = -1; // the ones after it go without too, so what is shown is a prefix
            e.put("payload_omitted", true);
          }
          e.put("payload_length", rs.getLong("payload_length"));
          if (text != null) {
            e.put("payload_text", text);
          }
          events.add(e.put("logged_at", time(rs.getString("logged_at"))));
        }
      }
    }
    return ws.put("events", events);
  }

  private static JsonObject summary(ResultSet rs, boolean keepRowid) throws SQLException {
    JsonObject o = new JsonObject().put("id", str(rs, "id"));
    String tunnel = rs.getString("tunnel_id");
    if (tunnel != null) {
      o.put("tunnel_id", tunnel);
    }
    String at = rs.getString("logged_at");
    o.put("subdomain", str(rs, "subdomain"))
        .put("localport", rs.getInt("localport"))
        .put("host", str(rs, "host"))
        .put("method", str(rs, "method"))
        .put("url", str(rs, "url"))
        .put("status", rs.getInt("response_status_code"))
        .put("duration_ms", rs.getLong("duration_ms"))
        .put("bytes_in", rs.getLong("bytes_in"))
        .put("bytes_out", rs.getLong("bytes_out"))
        .put("protocol", str(rs, "protocol"))
        .put("logged_at", time(at))
        .put("is_replayed", rs.getInt("is_replayed") != 0);
    String parent = str(rs, "parent_id");
    if (!parent.isEmpty()) {
      o.put("parent_id", parent);
    }
    if (keepRowid) {
      o.put("_rowid", rs.getLong("_rowid"));
    }
    return o;
  }

  /** The summary item of a capture just committed. */
  static JsonObject summary(Capture.Exchange e, Instant loggedAt, long seq) {
    return Summary.of(e, loggedAt, seq).toJson();
  }

  /**
   * A committed request's summary item as fields (no headers or bodies): what the live feed keeps
   * and publishes, made JSON only when it is read or received.
   */
  record Summary(String id, String tunnelId, String subdomain, int localport, String host, String method,
      String url, int status, long durationMs, long bytesIn, long bytesOut, String protocol, Instant loggedAt,
      boolean replayed, String parentId, long seq) implements JsonBody {
    static Summary of(Capture.Exchange e, Instant loggedAt, long seq) {
      return new Summary(e.id(), e.tunnelId(), e.subdomain(), e.localport(), e.host(), e.method(), e.url(),
          e.status(), e.durationMs(), e.bytesIn(), e.bytesOut(), e.protocol(), loggedAt, e.replayed(), e.parentId(),
          seq);
    }

    @Override
    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("id", id).put("tunnel_id", tunnelId)
          .put("subdomain", subdomain)
          .put("localport", localport)
          .put("host", host)
          .put("method", method)
          .put("url", url)
          .put("status", status)
          .put("duration_ms", durationMs)
          .put("bytes_in", bytesIn)
          .put("bytes_out", bytesOut)
          .put("protocol", protocol)
          .put("logged_at", Times.format(loggedAt))
          .put("is_replayed", replayed);
      if (!parentId.isEmpty()) {
        o.put("parent_id", parentId);
      }
      return o.put("seq", seq);
    }
  }

  /** The detail item of a capture just committed (what a replay waits for). */
  static JsonObject detail(Capture.Exchange e, Instant loggedAt) {
    JsonObject o = summary(e, loggedAt, 0);
    o.remove("seq");
    o.put("headers", new JsonObject(GoFormats.headersJson(e.requestHeaders())));
    o.put("response_headers", new JsonObject(GoFormats.headersJson(e.responseHeaders())));
    bodies(o, e.requestBody(), e.bytesIn(), e.responseBody(), e.bytesOut());
    return o;
  }

  static String likePattern(String value) {
    String escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    return "%" + escaped.toLowerCase(java.util.Locale.ROOT) + "%";
  }

  static void bind(PreparedStatement s, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      Object a = args.get(i);
      if (a instanceof Integer n) {
        s.setInt(i + 1, n);
      } else if (a instanceof Long n) {
        s.setLong(i + 1, n);
      } else {
        s.setString(i + 1, (String) a);
      }
    }
  }

  private static JsonObject headers(String json) {
    if (json == null || json.isBlank()) {
      return new JsonObject();
    }
    try {
      return new JsonObject(json);
    } catch (RuntimeException e) {
      return new JsonObject();
    }
  }

  private static void putTime(JsonObject o, String key, String value) {
    if (value != null && !value.isEmpty()) {
      o.put(key, time(value));
    }
  }

  /** A stored time as the API shows it (RFC 3339 in UTC), or the stored text when it is not a time. */
  static String time(String stored) {
    if (stored == null) {
      return "";
    }
    try {
      return Times.format(GoFormats.parseDbTime(stored).toInstant());
    } catch (RuntimeException e) {
      return stored;
    }
  }

  static byte[] bytes(byte[] b) {
    return b == null ? new byte[0] : b;
  }

  private static String str(ResultSet rs, String column) throws SQLException {
    String s = rs.getString(column);
    return s == null ? "" : s;
  }
}
