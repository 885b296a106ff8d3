import type { EngineName, EngineTypes } from "../engine/engine.js";
import type { EngineFactory } from "../engine/factory.js";
import { multiPaxosCodec, multiPaxosEngine, type MultiPaxosTypes } from "../engine/multi_paxos.js";
import { raftEngine, type RaftTypes } from "../engine/raft.js";
import { zabCodec, zabEngine, type ZabTuning, type ZabTypes } from "../engine/zab.js";
import type { NodeId } from "../raft/index.js";
import type { Disk, StorageResult } from "../storage/index.js";
import { engineWire, raftWire, type PeerWire } from "../transport/index.js";
import type { NodeIdentity } from "./data_dir.js";
import { raftStorage, type EngineStorage } from "./engine_storage.js";
import type { RaftTuning } from "./node_options.js";
import { NodeStorage } from "./node_storage.js";
import { PaxosStorage } from "./paxos_storage.js";
import { ZabStorage } from "./zab_storage.js";

/** One engine's data directory, opened: its storage, what it recovered, and who this node is. */
export interface OpenedEngine<E extends EngineTypes, N extends EngineName = EngineName> {
  readonly name: N;
  readonly storage: EngineStorage<E>;
  readonly durable: E["durable"];
  readonly identity: NodeIdentity | undefined;
  writeIdentity(identity: NodeIdentity): Promise<StorageResult<void>>;
  /** The core, for a member of `voters` (Raft: empty when it joins an existing cluster). */
  factory(voters: readonly NodeId[]): EngineFactory<E>;
  readonly wire: PeerWire<E["message"]>;
}

/** Raft, Multi-Paxos or ZAB, chosen by name. */
type AnyOpenedEngine =
  OpenedEngine<RaftTypes, "raft"> | OpenedEngine<MultiPaxosTypes, "multi-paxos"> | OpenedEngine<ZabTypes, "zab">;

export async function openEngine(
  name: EngineName,
  disk: Disk,
  dir: string,
  raftTuning: RaftTuning | undefined,
  zabTuning: ZabTuning | undefined,
): Promise<StorageResult<AnyOpenedEngine>> {
  if (name === "raft") {
    const opened = await NodeStorage.open(disk, dir);
    if (!opened.ok) return opened;
    const { storage, durable, identity } = opened.value;
    const engine: OpenedEngine<RaftTypes, "raft"> = {
      name,
      storage: raftStorage(storage),
      durable,
      identity,
      writeIdentity: (id) => storage.writeIdentity(id),
      factory: (voters) => raftEngine({ ...raftTuning, voters }),
      wire: raftWire,
    };
    return { ok: true, value: engine };
  }
  if (name === "zab") return openZab(disk, dir, zabTuning);
  const opened = await PaxosStorage.open(disk, dir);
  if (!opened.ok) return opened;
  const { storage, durable, identity } = opened.value;
  const engine: OpenedEngine<MultiPaxosTypes, "multi-paxos"> = {
    name,
    storage,
    durable,
    identity,
    writeIdentity: (id) => storage.writeIdentity(id),
    factory: (members) => multiPaxosEngine({ members }),
    wire: engineWire(multiPaxosCodec),
  };
  return { ok: true, value: engine };
}

async function openZab(
  disk: Disk,
  dir: string,
  tuning: ZabTuning | undefined,
): Promise<StorageResult<OpenedEngine<ZabTypes, "zab">>> {
  const opened = await ZabStorage.open(disk, dir);
  if (!opened.ok) return opened;
  const { storage, durable, identity } = opened.value;
  const engine: OpenedEngine<ZabTypes, "zab"> = {
    name: "zab",
    storage,
    durable,
    identity,
    writeIdentity: (id) => storage.writeIdentity(id),
    factory: (members) => zabEngine({ ...tuning, members }),
    wire: engineWire(zabCodec),
  };
  return { ok: true, value: engine };
}
