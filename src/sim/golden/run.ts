import { nodeId, type ConfChangeType } from "../../raft/index.js";
import { ScriptedCluster } from "../scripted.js";
import { describeConfigs, describeLogs, describeStatus } from "./format.js";
import { TraceRecorder } from "./recorder.js";
import { fail, parseCount, type Case } from "./script.js";
import { clusterOptions } from "./setup.js";

/** A command acts on the cluster and returns its own output (a result, a view); the trace comes after. */
type Command = (c: ScriptedCluster, args: Args) => readonly string[];

/** A command that prints nothing of its own (its trace follows). */
function quiet(act: (c: ScriptedCluster, args: Args) => void): Command {
  return (c, a) => {
    act(c, a);
    return [];
  };
}

const textEncoder = new TextEncoder();

/**
 * Inputs (campaign, tick, propose, ...) only queue the messages they cause; `deliver` and
 * `deliver-hop` move them, so a script decides how far each exchange gets. `tick-all` delivers
 * after each round, as ScriptedCluster.tickAll does.
 */
const COMMANDS = new Map<string, Command>([
  ["campaign", quiet((c, a) => c.node(a.node(0)).campaign())],
  ["tick", quiet((c, a) => c.tick(a.node(0), a.count(1)))],
  ["tick-all", quiet((c, a) => c.tickAll(a.count(0)))],
  ["deliver", quiet((c) => c.deliver())],
  ["deliver-hop", quiet((c) => c.deliverOneHop())],
  ["cut", quiet((c, a) => c.cut(a.node(0), a.node(1)))],
  ["isolate", quiet((c, a) => c.isolate(a.node(0)))],
  ["heal", quiet((c) => c.heal())],
  ["propose", (c, a) => [describeResult(c.node(a.node(0)).propose(a.bytes(1)))]],
  ["read-index", (c, a) => [describeResult(c.node(a.node(0)).readIndex(a.bytes(1)))]],
  ["transfer", (c, a) => [describeResult(c.node(a.node(0)).transferLeader(nodeId(a.node(1))))]],
  ["add-learner", confChange("addLearner")],
  ["promote", confChange("promote")],
  ["remove", confChange("remove")],
  ["status", (c) => describeStatus(c)],
  ["log", (c) => describeLogs(c)],
  ["config", (c) => describeConfigs(c)],
]);

/** `<command> <leader> <node>`: the leader proposes the change for the node. */
function confChange(type: ConfChangeType): Command {
  return (c, a) => [
    describeResult(c.node(a.node(0)).proposeConfChange({ type, id: nodeId(a.node(1)), context: new Uint8Array(0) })),
  ];
}

/** `ok` with the result's fields (`ok index=3 term=2`), or `error: <reason>`. */
function describeResult(result: { readonly ok: true } | { readonly ok: false; readonly error: string }): string {
  if (!result.ok) return `error: ${result.error}`;
  const fields = Object.entries(result).filter(([k]) => k !== "ok");
  return ["ok", ...fields.map(([k, v]) => `${k}=${String(v)}`)].join(" ");
}

class Args {
  readonly #args: readonly string[];

  constructor(args: readonly string[]) {
    this.#args = args;
  }

  #at(k: number): string {
    return this.#args[k] ?? fail(`argument ${k + 1} is missing`);
  }

  node(k: number): number {
    return parseCount(this.#at(k));
  }

  /** Defaults to 1, so `tick 1` is one tick. */
  count(k: number): number {
    return this.#args[k] === undefined ? 1 : parseCount(this.#at(k));
  }

  bytes(k: number): Uint8Array {
    return textEncoder.encode(this.#at(k));
  }
}

/** Runs a script's cases in order against one scripted cluster at a time (each `cluster` starts a new one). */
export class ScriptRunner {
  #cluster: ScriptedCluster | undefined;
  #recorder: TraceRecorder | undefined;

  /** The case's output: what the command prints, then the trace of what it caused. */
  run(c: Case): string[] {
    try {
      if (c.command === "cluster") {
        this.#cluster = new ScriptedCluster(clusterOptions(c));
        this.#recorder = new TraceRecorder(this.#cluster);
        return [];
      }
      const command =
        COMMANDS.get(c.command) ?? fail(`unknown command (one of cluster, ${[...COMMANDS.keys()].join(", ")})`);
      if (c.input.length > 0 || c.options.size > 0) fail("takes no input lines and no key=value arguments");
      if (this.#cluster === undefined || this.#recorder === undefined) fail("no cluster yet");
      const printed = command(this.#cluster, new Args(c.args));
      return [...printed, ...this.#recorder.take()];
    } catch (error) {
      throw new Error(`line ${c.line} (${c.command}): ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
}
