/** The compatibility scripts by name: each runs against a cluster and returns its normalized transcript. */
import { authScript } from "./auth_script.js";
import { etcd3Script } from "./etcd3_script.js";
import { EtcdctlScript } from "./etcdctl_script.js";
import type { CompatCluster } from "./normalize.js";

export const compatScripts: ReadonlyMap<string, (cluster: CompatCluster) => Promise<string[]>> = new Map([
  ["etcdctl", (cluster: CompatCluster) => new EtcdctlScript(cluster).run()],
  ["etcd3", etcd3Script],
  // Last: it leaves auth disabled and its users and roles removed, whatever ran before.
  ["auth", authScript],
]);
