/** The compatibility scripts by name: each runs against a cluster and returns its normalized transcript. */
import { etcd3Script } from "./etcd3_script.js";
import { EtcdctlScript } from "./etcdctl_script.js";
import type { CompatCluster } from "./normalize.js";

export const compatScripts: ReadonlyMap<string, (cluster: CompatCluster) => Promise<string[]>> = new Map([
  ["etcdctl", (cluster: CompatCluster) => new EtcdctlScript(cluster).run()],
  ["etcd3", etcd3Script],
]);
