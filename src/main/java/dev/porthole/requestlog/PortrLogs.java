package dev.porthole.requestlog;

import dev.porthole.config.GoQuote;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * {@code porthole logs}: Portr's {@code portr logs} (cmd/portr/logs.go, internal/client/logs):
 * its own argument parser, its query (newest first, case-insensitive URL filter, {@code --since}),
 * its text lines and its {@code --json} (Go's encoding of the stored rows), on the database file
 * read as it is.
 */
public final class PortrLogs {
  private PortrLogs() {
  }

  public static final int DEFAULT_COUNT = 20;

  /** A message Portr prints (to stderr, exit 1). */
  public static final class Failure extends Exception {
    public Failure(String message) {
      super(message, null, false, false);
    }
  }

  /** The parsed command line. */
  public record Options(String subdomain, String filter, int count, OffsetDateTime since, boolean json, Path db,
      boolean help) {
  }

  /** Portr's {@code ParseCommandArgs}, plus {@code --db PATH}; {@code -h}/{@code --help} before {@code --}. */
  public static Options parse(List<String> args, Path defaultDb) throws Failure {
    for (String a : args) {
      String t = a.strip();
      if (t.equals("--")) {
        break;
      }
      if (t.equals("--help") || t.equals("-h")) {
        return new Options("", "", DEFAULT_COUNT, null, false, defaultDb, true);
      }
    }
    List<String> positional = new ArrayList<>();
    int count = DEFAULT_COUNT;
    boolean json = false;
    String sinceRaw = "";
    Path db = defaultDb;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i).strip();
      if (arg.isEmpty()) {
        continue;
      }
      if (arg.equals("--")) {
        positional.addAll(args.subList(i + 1, args.size()));
        break;
      }
      if (arg.equals("--json")) {
        json = true;
      } else if (arg.equals("--count") || arg.equals("-n")) {
        if (i + 1 >= args.size()) {
          throw new Failure("missing value for " + arg);
        }
        count = parseCount(args.get(++i).strip());
      } else if (arg.startsWith("--count=")) {
        count = parseCount(arg.substring("--count=".length()).strip());
      } else if (arg.startsWith("-n=")) {
        count = parseCount(arg.substring("-n=".length()).strip());
      } else if (arg.equals("--since")) {
        if (i + 1 >= args.size()) {
          throw new Failure("missing value for " + arg);
        }
        sinceRaw = args.get(++i).strip();
      } else if (arg.startsWith("--since=")) {
        sinceRaw = arg.substring("--since=".length()).strip();
      } else if (arg.equals("--db")) {
        if (i + 1 >= args.size()) {
          throw new Failure("missing value for " + arg);
        }
        db = Path.of(args.get(++i).strip());
      } else if (arg.startsWith("--db=")) {
        db = Path.of(arg.substring("--db=".length()).strip());
      } else if (arg.startsWith("-")) {
        throw new Failure("unknown flag " + arg);
      } else {
        positional.add(arg);
      }
    }
    if (positional.isEmpty() || positional.get(0).strip().isEmpty()) {
      throw new Failure("please specify a subdomain");
    }
    String filter = positional.size() > 1 ? String.join(" ", positional.subList(1, positional.size())).strip() : "";
    return new Options(positional.get(0).strip(), filter, count, parseSince(sinceRaw), json, db, false);
  }

  private static int parseCount(String value) throws Failure {
    int count;
    try {
      if (!value.matches("[+-]?[0-9]+")) {
        throw new NumberFormatException();
      }
      count = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new Failure("invalid count value " + GoQuote.q(value));
    }
    if (count <= 0) {
      throw new Failure("count must be greater than 0");
    }
    return count;
  }

  /** Portr's {@code ParseSince}: RFC 3339, or a date at local midnight. */
  static OffsetDateTime parseSince(String value) throws Failure {
    String v = value.strip();
    if (v.isEmpty()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(v, DateTimeFormatter.ISO_OFFSET_DATE_TIME).withOffsetSameInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      // a date, perhaps
    }
    try {
      if (v.matches("[0-9]{4}-[0-9]{2}-[0-9]{2}")) {
        return LocalDate.parse(v).atStartOfDay(ZoneId.systemDefault()).toOffsetDateTime()
            .withOffsetSameInstant(ZoneOffset.UTC);
      }
    } catch (DateTimeParseException e) {
      // as below
    }
    throw new Failure("invalid since value " + GoQuote.q(v) + ": use RFC3339 or YYYY-MM-DD");
  }

  /** One stored row, as gorm reads it into Portr's {@code db.Request}. */
  record Row(String id, String subdomain, long localport, String host, String url, String method, String headers,
      byte[] body, String responseHeaders, byte[] responseBody, long status, OffsetDateTime loggedAt,
      boolean replayed, String parentId, long durationMs, long bytesIn, long bytesOut, String protocol) {
  }

  /** Reads the rows: Portr's {@code Open} checks and {@code List} query. */
  static List<Row> query(Options o) throws Failure {
    Path path = o.db();
    if (!Files.exists(path)) {
      if (Files.notExists(path)) {
        throw new Failure("request log database not found at " + path);
      }
      throw new Failure("failed to access request log database at " + path + ": permission denied");
    }
    Connection c;
    try {
      c = Schema.open(path.toString(), false, true, 5_000);
    } catch (SQLException e) {
      throw new Failure("failed to open request log database at " + path + ": " + Schema.message(e));
    }
    try (c) {
      StringBuilder sql = new StringBuilder("SELECT id,subdomain,localport,host,url,method,headers,body,"
          + "response_headers,response_body,response_status_code,logged_at,is_replayed,parent_id,duration_ms,bytes_in,"
          + "bytes_out,protocol FROM requests WHERE subdomain = ?");
      List<String> args = new ArrayList<>(List.of(o.subdomain()));
      if (o.since() != null) {
        sql.append(" AND logged_at >= ?");
        args.add(GoFormats.dbTime(o.since().toInstant()));
      }
      if (!o.filter().isEmpty()) {
        sql.append(" AND LOWER(url) LIKE ? ESCAPE '\\'");
        args.add(Store.likePattern(o.filter()));
      }
      sql.append(" ORDER BY logged_at desc,id desc LIMIT ").append(o.count());
      List<Row> rows = new ArrayList<>();
      try (PreparedStatement s = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          s.setString(i + 1, args.get(i));
        }
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            rows.add(row(rs));
          }
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new Failure("failed to query request logs: " + Schema.message(e));
    }
  }

  private static Row row(ResultSet rs) throws SQLException, Failure {
    String at = rs.getString("logged_at");
    OffsetDateTime loggedAt;
    try {
      loggedAt = at == null ? OffsetDateTime.of(1, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC) : GoFormats.parseDbTime(at);
    } catch (IllegalArgumentException e) {
      throw new Failure("failed to query request logs: sql: Scan error on column index 11, name \"logged_at\": "
          + "unsupported Scan, storing driver.Value type string into type *time.Time");
    }
    return new Row(s(rs, "id"), s(rs, "subdomain"), rs.getLong("localport"), s(rs, "host"), s(rs, "url"),
        s(rs, "method"), rs.getString("headers"), blob(rs.getBytes("body")), rs.getString("response_headers"),
        blob(rs.getBytes("response_body")), rs.getLong("response_status_code"), loggedAt,
        rs.getLong("is_replayed") != 0, s(rs, "parent_id"), rs.getLong("duration_ms"), rs.getLong("bytes_in"),
        rs.getLong("bytes_out"), s(rs, "protocol"));
  }

  /** The driver reads an empty blob as nil, like NULL. */
  private static byte[] blob(byte[] b) {
    return b == null || b.length == 0 ? null : b;
  }

  private static String s(ResultSet rs, String column) throws SQLException {
    String v = rs.getString(column);
    return v == null ? "" : v;
  }

  /** Portr's {@code RenderText}. */
  static String text(List<Row> rows) {
    if (rows.isEmpty()) {
      return "no logs found\n";
    }
    StringBuilder b = new StringBuilder();
    for (Row r : rows) {
      b.append(GoFormats.rfc3339Seconds(r.loggedAt())).append(' ').append(r.localport()).append(' ')
          .append(r.method()).append(' ').append(r.status()).append(' ').append(r.url());
      if (r.replayed()) {
        b.append(" [replayed]");
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** Portr's {@code RenderJSON}: a Go encoder with HTML escaping off, one line. */
  static String json(List<Row> rows) {
    StringBuilder b = new StringBuilder("[");
    Base64.Encoder b64 = Base64.getEncoder();
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (i > 0) {
        b.append(',');
      }
      b.append("{\"ID\":");
      str(b, r.id()).append(",\"Subdomain\":");
      str(b, r.subdomain()).append(",\"Localport\":").append(r.localport()).append(",\"Host\":");
      str(b, r.host()).append(",\"Url\":");
      str(b, r.url()).append(",\"Method\":");
      str(b, r.method()).append(",\"Headers\":");
      raw(b, r.headers()).append(",\"Body\":");
      bytes(b, r.body(), b64).append(",\"ResponseHeaders\":");
      raw(b, r.responseHeaders()).append(",\"ResponseBody\":");
      bytes(b, r.responseBody(), b64).append(",\"ResponseStatusCode\":").append(r.status()).append(",\"LoggedAt\":\"")
          .append(GoFormats.rfc3339Nano(r.loggedAt())).append("\",\"IsReplayed\":").append(r.replayed())
          .append(",\"ParentID\":");
      str(b, r.parentId()).append(",\"DurationMs\":").append(r.durationMs()).append(",\"BytesIn\":")
          .append(r.bytesIn()).append(",\"BytesOut\":").append(r.bytesOut()).append(",\"Protocol\":");
      str(b, r.protocol());
      String bodyText = r.body() == null ? null : GoFormats.utf8(r.body());
      if (bodyText != null) {
        str(b.append(",\"BodyText\":"), bodyText);
      }
      String responseText = r.responseBody() == null ? null : GoFormats.utf8(r.responseBody());
      if (responseText != null) {
        str(b.append(",\"ResponseBodyText\":"), responseText);
      }
      b.append('}');
    }
    return b.append("]\n").toString();
  }

  private static StringBuilder str(StringBuilder b, String s) {
    return GoFormats.string(b, s, false);
  }

  private static StringBuilder raw(StringBuilder b, String json) {
    return b.append(json == null ? "null" : GoFormats.compact(json));
  }

  private static StringBuilder bytes(StringBuilder b, byte[] v, Base64.Encoder b64) {
    return v == null ? b.append("null") : b.append('"').append(b64.encodeToString(v)).append('"');
  }

  /**
   * Runs the command: output on {@code out}, a failure's message on {@code err}; the exit code
   * (0, or 1 as urfave/cli's caller in Portr's main exits).
   */
  public static int run(List<String> args, Path defaultDb, PrintStream out, PrintStream err, Runnable usage) {
    try {
      Options o = parse(args, defaultDb);
      if (o.help()) {
        usage.run();
        return 0;
      }
      List<Row> rows = query(o);
      out.writeBytes((o.json() ? json(rows) : text(rows)).getBytes(StandardCharsets.UTF_8));
      out.flush();
      return 0;
    } catch (Failure f) {
      err.println(f.getMessage());
      err.flush();
      return 1;
    }
  }
}
