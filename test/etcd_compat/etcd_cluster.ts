/**
 * A real 3-member etcd (Debian's etcd-server) on loopback, for the comparison script only: CI has
 * no etcd server, and the tests compare raftkv with the transcripts etcd gave (the golden files).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, until } from "../harness.js";
import { etcdctl } from "./etcdctl.js";
import type { CompatCluster, CompatMember } from "./normalize.js";

export const etcdPath = "/usr/bin/etcd";

export interface EtcdCluster extends CompatCluster {
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<EtcdCluster> {
  if (!existsSync(etcdPath)) throw new Error(`${etcdPath} is missing: apt-get install -y etcd-server`);
  const dir = await mkdtemp(join(tmpdir(), "raftkv-etcd-"));
  const members: CompatMember[] = [];
  for (let k = 1; k <= 3; k++) {
    members.push({
      name: `e${k}`,
      clientUrl: `http://127.0.0.1:${await freePort()}`,
      peerUrl: `http://127.0.0.1:${await freePort()}`,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const children: ChildProcess[] = members.map((m) =>
    spawn(
      etcdPath,
      [
        ...["--name", m.name, "--data-dir", join(dir, m.name)],
        ...["--listen-client-urls", m.clientUrl, "--advertise-client-urls", m.clientUrl],
        ...["--listen-peer-urls", m.peerUrl, "--initial-advertise-peer-urls", m.peerUrl],
        ...["--initial-cluster", initialCluster, "--initial-cluster-state", "new"],
        ...["--initial-cluster-token", "raftkv-compat"],
      ],
      { stdio: "ignore" },
    ),
  );
  const cluster: EtcdCluster = {
    members,
    sparePeerUrl: `http://127.0.0.1:${await freePort()}`,
    stop: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) resolve();
              else {
                child.once("close", () => resolve());
                child.kill("SIGTERM");
              }
            }),
        ),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(
      "etcd to elect a leader",
      async () => {
        const run = await etcdctl({ endpoints: members.map((m) => m.clientUrl) }, ["endpoint", "status"]);
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
