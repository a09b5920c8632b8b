package dev.porthole.cli;

import dev.porthole.Version;
import dev.porthole.config.ConfigException;
import dev.porthole.config.ConfigLoader;
import dev.porthole.config.RelayConfig;
import dev.porthole.relay.ListenFailure;
import dev.porthole.relay.RelayVerticle;
import dev.porthole.relay.RelayVerticle.Endpoints;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "relay", mixinStandardHelpOptions = true,
    description = "Run a Portr-compatible relay: the admin API that reserves connections, the SSH server "
        + "that grants remote forwards, the HTTP edge that routes <subdomain>.<domain> to them, and the "
        + "public TCP ports. Settings come from conf/porthole.yaml (or --conf), then PORTHOLE_* "
        + "environment variables, then these options.")
public final class RelayCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RelayCommand.class);

  @Mixin
  SettingsFile conf = new SettingsFile();

  @Option(names = "--bind-host", paramLabel = "HOST", description = "address for the admin API, SSH and HTTP edge (relay.bind_host)")
  String bindHost;

  @Option(names = "--admin-port", paramLabel = "PORT", description = "admin API port (relay.admin_port, default 8000)")
  Integer adminPort;

  @Option(names = "--ssh-port", paramLabel = "PORT", description = "SSH port (relay.ssh_port, default 2222)")
  Integer sshPort;

  @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP edge port (relay.http_port, default 8001)")
  Integer httpPort;

  @Option(names = "--domain", paramLabel = "DOMAIN", description = "public domain of HTTP tunnels (relay.domain, default localhost:<http port>)")
  String domain;

  @Option(names = "--public-host", paramLabel = "HOST", description = "address TCP tunnels listen on (relay.public_host, default 127.0.0.1)")
  String publicHost;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "where the host key and generated secret key live (relay.data_dir)")
  String dataDir;

  @Option(names = "--ssh-window-bytes", paramLabel = "BYTES",
      description = "SSH receive window per forwarded connection (relay.ssh_window_bytes, default 8388608)")
  Long sshWindowBytes;

  @Option(names = "--ssh-packet-bytes", paramLabel = "BYTES",
      description = "largest SSH data packet accepted (relay.ssh_packet_bytes, default 65536)")
  Integer sshPacketBytes;

  @Override
  public Integer call() throws Exception {
    JsonObject relay = new JsonObject();
    putIfSet(relay, "bind_host", bindHost);
    putIfSet(relay, "admin_port", adminPort);
    putIfSet(relay, "ssh_port", sshPort);
    putIfSet(relay, "http_port", httpPort);
    putIfSet(relay, "domain", domain);
    putIfSet(relay, "public_host", publicHost);
    putIfSet(relay, "data_dir", dataDir);
    putIfSet(relay, "ssh_window_bytes", sshWindowBytes);
    putIfSet(relay, "ssh_packet_bytes", sshPacketBytes);
    Vertx vertx = Vertx.vertx();
    JsonObject tree;
    try {
      tree = Service.await(ConfigLoader.load(vertx, conf.path, System.getenv(), new JsonObject().put("relay", relay)),
          30, "reading the configuration");
      RelayConfig.from(tree);
    } catch (ConfigException e) {
      System.err.println("porthole: " + e.getMessage());
      vertx.close();
      return 2;
    }
    RelayVerticle verticle = new RelayVerticle();
    try {
      Service.await(vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(tree)), 60, "starting the relay");
    } catch (Exception e) {
      String hint = e instanceof ListenFailure f ? ": set relay." + f.listener().key() + " (--"
          + f.listener().key().replace('_', '-') + ")" : "";
      System.err.println("porthole: the relay could not start: " + describe(e) + hint);
      vertx.close();
      return 1;
    }
    logReady(verticle.endpoints());
    return Service.awaitSignalThenStop(vertx, () -> vertx.undeploy(verticle.deploymentID()));
  }

  static void logReady(Endpoints e) {
    log.info("porthole relay {} ready", Version.get());
    log.info("admin API  {} (POST /api/v1/connections/, GET /api/v1/version)", e.adminUrl());
    log.info("SSH        {}:{} host key {} ({})", e.bindHost(), e.sshPort(), e.hostKeyFingerprint(),
        e.hostKeyLine().substring(0, e.hostKeyLine().indexOf(' ')));
    log.info("known_hosts line: [{}]:{} {}", RelayVerticle.dialable(e.bindHost()), e.sshPort(), e.hostKeyLine());
    log.info("HTTP edge  http://<subdomain>.{} (listening on {}:{})", e.domain(), e.bindHost(), e.httpPort());
    log.info("TCP tunnels listen on {}", e.publicHost());
    if (e.generatedSecretFile() != null) {
      log.info("no relay.secret_keys configured: clients use the generated secret key stored in {}",
          e.generatedSecretFile().toAbsolutePath());
    }
  }

  private static void putIfSet(JsonObject o, String key, Object value) {
    if (value != null) {
      o.put(key, value);
    }
  }

  static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t && (t.getMessage() == null || t instanceof java.util.concurrent.CompletionException)) {
      t = t.getCause();
    }
    String msg = t.getMessage();
    return msg == null ? t.getClass().getSimpleName() : msg;
  }
}
