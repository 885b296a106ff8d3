/**
 * The codecs of every etcd v3 message, compiled once from the descriptors in messages/ (a descriptor
 * engine rather than hand-written codecs: ~90 messages stay one line each, and the hot ones measure
 * fast enough; see docs/api.md for the figures).
 */
import { DescriptorRegistry } from "../grpc/descriptors.js";
import type { MessageCodec } from "../grpc/framing.js";
import { authDescriptors } from "./messages/auth.js";
import { clusterDescriptors } from "./messages/cluster.js";
import { kvDescriptors } from "./messages/kv.js";
import { leaseDescriptors } from "./messages/lease.js";
import { maintenanceDescriptors } from "./messages/maintenance.js";
import { recordsDescriptors } from "./messages/records.js";
import { watchDescriptors } from "./messages/watch.js";

const registry = new DescriptorRegistry();
for (const table of [
  recordsDescriptors,
  kvDescriptors,
  watchDescriptors,
  leaseDescriptors,
  clusterDescriptors,
  maintenanceDescriptors,
  authDescriptors,
])
  registry.add(table);

const made = new Map<string, MessageCodec<unknown>>();

/** The codec of an etcd message by its name in etcd's .proto files ("RangeRequest", "KeyValue"). */
export function codecOf<T>(name: string): MessageCodec<T> {
  let codec = made.get(name);
  if (codec === undefined) {
    codec = registry.codec<unknown>(name);
    made.set(name, codec);
  }
  return codec as MessageCodec<T>;
}
