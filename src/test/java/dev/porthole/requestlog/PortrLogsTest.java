package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.cli.PortholeCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code porthole logs} on a database laid out and filled exactly as Portr writes it. */
class PortrLogsTest {
  @TempDir
  Path dir;
  Path db;

  @BeforeEach
  void fixture() throws Exception {
    db = SchemaTest.portrDb(dir);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      String cols = "INSERT INTO `requests` (`id`,`subdomain`,`localport`,`host`,`url`,`method`,`headers`,`body`,"
          + "`response_headers`,`response_body`,`response_status_code`,`logged_at`,`is_replayed`,`parent_id`,"
          + "`duration_ms`,`bytes_in`,`bytes_out`,`protocol`) VALUES ";
      s.execute(cols + "('01HAAA','web',3000,'web.example.com','/api/users?q=<x>&y','GET',"
          + "'{\"Accept\":[\"*/*\"],\"X-Html\":[\"\\u003cb\\u003e\"]}',X'','{\"Content-Type\":[\"application/json\"]}',"
          + "X'6F6B',200,'2024-05-01 10:00:00.5+00:00',0,'',12,0,2,'HTTP/1.1')");
      s.execute(cols + "('01HBBB','web',3000,'web.example.com','/hook','POST','{\"Content-Type\":[\"text/plain\"]}',"
          + "X'FF00','{}',NULL,201,'2024-05-02 08:30:15+00:00',1,'01HAAA',5,2,0,'HTTP/1.1')");
      s.execute(cols + "('01HCCC','api',4000,'api.example.com','/other','GET','{}',NULL,'{}',NULL,200,"
          + "'2024-05-03 00:00:00+00:00',0,'',1,0,0,'HTTP/1.1')");
      s.execute(cols + "('01HDDD','web',3000,'web.example.com','/100%_done','GET','{}',X'E282AC','{}',NULL,404,"
          + "'2024-04-30 23:59:59.123456789+00:00',0,'',1,3,0,'HTTP/1.1')");
    }
  }

  record Run(int exit, String out, String err) {
  }

  Run logs(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = PortrLogs.run(List.of(args), db, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), () -> { });
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void text_lines_newest_first_byte_for_byte() {
    assertThat(logs("web")).isEqualTo(new Run(0, """
        2024-05-02T08:30:15Z 3000 POST 201 /hook [replayed]
        2024-05-01T10:00:00Z 3000 GET 200 /api/users?q=<x>&y
        2024-04-30T23:59:59Z 3000 GET 404 /100%_done
        """, ""));
    assertThat(logs("-n", "1", "web").out()).isEqualTo("2024-05-02T08:30:15Z 3000 POST 201 /hook [replayed]\n");
    assertThat(logs("web", "--count=2").out().lines()).hasSize(2);
  }

  @Test
  void filter_is_a_case_insensitive_escaped_like_and_since_a_lower_bound() {
    assertThat(logs("web", "USERS").out()).isEqualTo("2024-05-01T10:00:00Z 3000 GET 200 /api/users?q=<x>&y\n");
    assertThat(logs("web", "100%_").out()).isEqualTo("2024-04-30T23:59:59Z 3000 GET 404 /100%_done\n");
    assertThat(logs("web", "0%d").out()).isEqualTo("no logs found\n");
    assertThat(logs("web", "--since", "2024-05-01T10:00:00.5Z").out())
        .isEqualTo("2024-05-02T08:30:15Z 3000 POST 201 /hook [replayed]\n"
            + "2024-05-01T10:00:00Z 3000 GET 200 /api/users?q=<x>&y\n");
    assertThat(logs("web", "--since=2024-05-02T00:00:00+00:00").out()).startsWith("2024-05-02T08:30:15Z").hasLineCount(1);
    assertThat(logs("nobody")).isEqualTo(new Run(0, "no logs found\n", ""));
  }

  @Test
  void json_is_gos_encoding_of_the_rows() {
    assertThat(logs("web", "--json", "-n", "2").out()).isEqualTo("[{\"ID\":\"01HBBB\",\"Subdomain\":\"web\","
        + "\"Localport\":3000,\"Host\":\"web.example.com\",\"Url\":\"/hook\",\"Method\":\"POST\","
        + "\"Headers\":{\"Content-Type\":[\"text/plain\"]},\"Body\":\"/wA=\",\"ResponseHeaders\":{},"
        + "\"ResponseBody\":null,\"ResponseStatusCode\":201,\"LoggedAt\":\"2024-05-02T08:30:15Z\",\"IsReplayed\":true,"
        + "\"ParentID\":\"01HAAA\",\"DurationMs\":5,\"BytesIn\":2,\"BytesOut\":0,\"Protocol\":\"HTTP/1.1\"},"
        + "{\"ID\":\"01HAAA\",\"Subdomain\":\"web\",\"Localport\":3000,\"Host\":\"web.example.com\","
        + "\"Url\":\"/api/users?q=<x>&y\",\"Method\":\"GET\",\"Headers\":{\"Accept\":[\"*/*\"],"
        + "\"X-Html\":[\"\\u003cb\\u003e\"]},\"Body\":null,\"ResponseHeaders\":{\"Content-Type\":[\"application/json\"]},"
        + "\"ResponseBody\":\"b2s=\",\"ResponseStatusCode\":200,\"LoggedAt\":\"2024-05-01T10:00:00.5Z\","
        + "\"IsReplayed\":false,\"ParentID\":\"\",\"DurationMs\":12,\"BytesIn\":0,\"BytesOut\":2,"
        + "\"Protocol\":\"HTTP/1.1\",\"ResponseBodyText\":\"ok\"}]\n");
    assertThat(logs("web", "done", "--json").out()).contains("\"Body\":\"4oKs\"").endsWith(
        "\"LoggedAt\":\"2024-04-30T23:59:59.123456789Z\",\"IsReplayed\":false,\"ParentID\":\"\",\"DurationMs\":1,"
            + "\"BytesIn\":3,\"BytesOut\":0,\"Protocol\":\"HTTP/1.1\",\"BodyText\":\"€\"}]\n");
    assertThat(logs("nobody", "--json").out()).isEqualTo("[]\n");
  }

  @Test
  void portrs_errors_and_exit_codes() {
    assertThat(logs()).isEqualTo(new Run(1, "", "please specify a subdomain\n"));
    assertThat(logs("web", "-n", "0")).isEqualTo(new Run(1, "", "count must be greater than 0\n"));
    assertThat(logs("web", "-n", "abc")).isEqualTo(new Run(1, "", "invalid count value \"abc\"\n"));
    assertThat(logs("web", "--count")).isEqualTo(new Run(1, "", "missing value for --count\n"));
    assertThat(logs("web", "--since", "yesterday"))
        .isEqualTo(new Run(1, "", "invalid since value \"yesterday\": use RFC3339 or YYYY-MM-DD\n"));
    assertThat(logs("web", "--bogus")).isEqualTo(new Run(1, "", "unknown flag --bogus\n"));
    Path missing = dir.resolve("none.sqlite");
    assertThat(logs("web", "--db", missing.toString()))
        .isEqualTo(new Run(1, "", "request log database not found at " + missing + "\n"));
    // after "--" everything is positional (a filter that looks like a flag)
    assertThat(logs("web", "--", "--json").out()).isEqualTo("no logs found\n");
  }

  @Test
  void reads_without_changing_the_file() throws Exception {
    List<String> before = SchemaTest.rows(db, "SELECT name FROM sqlite_master ORDER BY name");
    logs("web");
    assertThat(SchemaTest.rows(db, "SELECT name FROM sqlite_master ORDER BY name")).isEqualTo(before);
  }

  @Test
  void the_command_hands_its_arguments_over_in_order() {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int exit;
    try {
      exit = new CommandLine(new PortholeCommand()).execute("logs", "-n", "1", "web", "--db", db.toString(), "hook");
    } finally {
      System.setOut(original);
    }
    assertThat(exit).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("2024-05-02T08:30:15Z 3000 POST 201 /hook [replayed]\n");
  }
}
