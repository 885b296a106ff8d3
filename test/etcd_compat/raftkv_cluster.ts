/** A 3-member raftkv cluster of real processes, described as the compatibility scripts need it. */
import { freePort, ProcessCluster, until } from "../harness.js";
import { etcdctl } from "./etcdctl.js";
import type { CompatCluster } from "./normalize.js";

export interface RaftkvCompatCluster extends CompatCluster {
  readonly processes: ProcessCluster;
  stop(): Promise<void>;
}

export async function startRaftkvForCompat(): Promise<RaftkvCompatCluster> {
  const processes = await ProcessCluster.start(3);
  const cluster: RaftkvCompatCluster = {
    processes,
    members: processes.members.map((m) => ({
      name: m.name,
      clientUrl: `http://${m.clientAddr}`,
      peerUrl: `http://${m.peerAddr}`,
    })),
    sparePeerUrl: `http://127.0.0.1:${await freePort()}`,
    stop: () => processes.stop(),
  };
  try {
    await until(
      "raftkv to elect a leader and answer etcdctl",
      async () => {
        const run = await etcdctl({ endpoints: processes.members.map((m) => m.clientAddr) }, ["endpoint", "status"]);
        return run.code === 0 && run.stdout.includes(", true, ") ? true : undefined;
      },
      30_000,
    );
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
