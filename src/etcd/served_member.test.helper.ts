/** An etcd router on a real listener over a store, a watch hub and a lessor, with no Raft underneath (coord's FakeNode). */
import { Lessor, WatchHub } from "../coord/index.js";
import { FakeNode } from "../coord/fake_member.test.helper.js";
import { GrpcClient } from "../grpc/client.js";
import { listen } from "../grpc/test_support.test.helper.js";
import { encodeCommand, type KvCommand } from "../kv/index.js";
import { realClock } from "../node/index.js";
import type { ServerContext } from "../server/context.js";
import { createEtcdRouter } from "./router.js";

export interface FakeMember {
  readonly node: FakeNode;
  readonly hub: WatchHub;
  readonly lessor: Lessor;
  readonly url: string;
  readonly client: GrpcClient;
  /** Applies a command to the member's store as if Raft had committed it. */
  apply(command: KvCommand): Promise<unknown>;
  close(): Promise<void>;
}

export async function startFakeMember(
  options: { bufferEventsMax?: number; leaderUrl?: string; follower?: boolean } = {},
): Promise<FakeMember> {
  const node = new FakeNode();
  if (options.follower === true) node.role = "follower";
  const hub = new WatchHub({
    kv: node.kv,
    clock: realClock,
    ...(options.bufferEventsMax === undefined ? {} : { bufferEventsMax: options.bufferEventsMax }),
  });
  const lessor = new Lessor({ kv: node.kv, node, clock: realClock, electionTimeoutMs: 1000, random: Math.random });
  const leaderAddress = options.leaderUrl?.replace(/^http:\/\//, "");
  const ctx = {
    node: {
      name: "fake",
      raft: {
        id: 1,
        status: () => node.status(),
        readBarrier: () => node.readBarrier(),
        propose: (command: Uint8Array) => node.propose(command),
      },
      clientAddressOf: () => leaderAddress,
    },
    kv: node.kv,
    watchHub: hub,
    lessor,
    forwarder: { tls: undefined },
  } as unknown as ServerContext;
  const server = await listen(createEtcdRouter(ctx));
  const client = new GrpcClient(server.url);
  return {
    node,
    hub,
    lessor,
    url: server.url,
    client,
    apply: (command) => node.propose(encodeCommand(command)),
    close: async () => {
      lessor.close();
      hub.close();
      // Whatever the test left open goes too: a failed test must not hang on it.
      client.session.destroy();
      await server.close();
    },
  };
}
