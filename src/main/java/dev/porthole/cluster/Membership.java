package dev.porthole.cluster;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeListener;
import java.util.List;

/**
 * What porthole asks of the cluster manager, in Vert.x's own terms (no Hazelcast type): this
 * member's id, the members, each member's metadata, and membership changes. The listeners are
 * called on the cluster manager's threads: hand over to an event loop at once.
 */
public interface Membership {
  /** This member's cluster node id. */
  String nodeId();

  /** The ids of the members now. */
  List<String> nodes();

  /** A member's event-bus metadata ({@code {"node","joined_at"}}); fails when it is not (or no longer) a member. */
  Future<JsonObject> metadata(String nodeId);

  /** Adds a listener of members joining and leaving (besides Vert.x's own). */
  void listen(NodeListener listener);
}
