import type { KvStore } from "../kv/index.js";
import type { Clock, Node } from "../node/index.js";
import type { NodeId } from "../raft/index.js";

/** One life of a member, once it is up: what its own services (a lessor, say) run beside the node. */
export interface MemberLife {
  readonly id: NodeId;
  readonly node: Node;
  /** Its store, in KV runs. */
  readonly kv: KvStore | undefined;
  /** The life's clock: its timers wait out the member's stalls and die with the life. */
  readonly clock: Clock;
}

/** One life of a member as it starts, before its node exists (ClusterOptions.beforeStart). */
export type MemberStart = Omit<MemberLife, "node">;

/** What ClusterOptions.services started for one life; closed when that life ends. */
export interface MemberServices {
  close(): void;
}
