import type { Server } from "node:http";
import { BasicPaxos, decodeMessage, encodeMessage, type Message, type Random } from "../paxos/basic/index.js";
import { fsDisk } from "../storage/index.js";
import { engineWire, TcpTransport, type PeerAddress } from "../transport/index.js";
import { nodeId, type NodeId } from "../util/ids.js";
import { createRegisterServer } from "./http.js";
import { RegisterMember } from "./member.js";
import { RegisterStorage } from "./storage.js";

/**
 * Basic Paxos messages in the transport's engine-message frames; the hello names the engine. The
 * comparison's simulator (bench/compare) sends the same frames.
 */
export const basicPaxosWire = engineWire({
  engine: "basic-paxos",
  from: (m: Message): NodeId => m.from,
  to: (m: Message): NodeId => m.to,
  kind: (m: Message): string => m.type,
  encode: encodeMessage,
  decode: (bytes: Uint8Array) => {
    const decoded = decodeMessage(bytes);
    return decoded.ok ? decoded : { ok: false as const, error: decoded.error.message };
  },
});

export interface RegisterServiceConfig {
  /** This member's name, a key of `members`. */
  readonly name: string;
  /** name → peer address of every member, this one included; ids are given by name order. */
  readonly members: Readonly<Record<string, PeerAddress>>;
  readonly data: string;
  readonly listenPeer: PeerAddress;
  readonly listenClient: PeerAddress;
  /** Real time per core tick; a phase times out after `phaseTicks` of them. */
  readonly tickMs: number;
  readonly phaseTicks: number;
  readonly backoffTicksMin: number;
  readonly requestTimeoutMs: number;
  readonly random: Random;
  readonly log: (level: "info" | "warn", message: string, fields?: Record<string, unknown>) => void;
  /** Called once if the member must stop on its own (a storage failure). */
  readonly onFatal: (error: unknown) => void;
}

interface RegisterService {
  readonly clientAddress: PeerAddress;
  stop(): Promise<void>;
}

/** The largest value a compare-and-set may write (the core's default). */
const valueBytesMax = 1536 * 1024;

/** Member ids by name order: every member computes the same table from the same --initial-cluster. */
function memberIds(names: readonly string[]): Record<string, number> {
  return Object.fromEntries([...names].sort().map((name, i) => [name, i + 1]));
}

/** The journal, recovered, and the core started from it. */
async function openCore(
  config: RegisterServiceConfig,
  ids: Record<string, number>,
): Promise<{ storage: RegisterStorage; core: BasicPaxos }> {
  const { storage, durable, tornTail } = await RegisterStorage.open(fsDisk, config.data, ids);
  if (tornTail !== undefined) config.log("warn", "recovered the journal after a torn write", { tornTail });
  config.log("info", "journal recovered", { round: durable.round, records: durable.records.length });
  const options = {
    id: nodeId(ids[config.name]!),
    acceptors: Object.values(ids).map(nodeId),
    random: config.random,
    phaseTicks: config.phaseTicks,
    backoffTicksMin: config.backoffTicksMin,
    valueBytesMax,
  };
  return { storage, core: new BasicPaxos(options, durable) };
}

/**
 * Starts one member of the register service: its journal (recovered), the peer transport, the
 * ticker and the HTTP API. Rejects, having released what it opened, when any of them fails.
 */
export async function startRegisterService(config: RegisterServiceConfig): Promise<RegisterService> {
  const ids = memberIds(Object.keys(config.members));
  const { storage, core } = await openCore(config, ids);
  const peers = new Map(
    Object.entries(config.members)
      .filter(([name]) => name !== config.name)
      .map(([name, address]) => [nodeId(ids[name]!), address] as const),
  );
  const member: RegisterMember = new RegisterMember({
    core,
    storage,
    send: (messages) => transport.send(messages),
    onFatal: config.onFatal,
  });
  const transport = new TcpTransport<Message>({
    wire: basicPaxosWire,
    id: core.id,
    listen: config.listenPeer,
    advertise: config.members[config.name]!,
    peers,
    onMessage: (m) => member.step(m),
    onWarning: (text) => config.log("warn", text),
  });
  const server = createRegisterServer({
    member,
    requestTimeoutMs: config.requestTimeoutMs,
    valueBytesMax,
    status: () => ({ name: config.name, ...core.status(), members: ids }),
  });
  const closeAll = async (): Promise<void> => {
    member.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.all([transport.close(), closed]);
    await storage.close();
  };
  try {
    await transport.start();
    await listen(server, config.listenClient);
  } catch (error) {
    await closeAll();
    throw error;
  }
  const ticker = setInterval(() => member.tick(), config.tickMs);
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.listenClient.port;
  return {
    clientAddress: { host: config.listenClient.host, port },
    stop: async () => {
      clearInterval(ticker);
      await closeAll();
    },
  };
}

function listen(server: Server, address: PeerAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
