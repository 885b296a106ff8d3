// The engines the comparison knows, one entry each. An engine that this build does not run (the
// simulator or `raftkv serve` refuses its name, or runs another engine under it) is reported as
// "not available in this build"; nothing is ever measured on a stand-in.
//   kv: serves the replicated KV store; false for Basic Paxos, which serves registers and is
//       measured on write-once registers where the others are measured on puts.
export const engines = [
  { name: "raft", kv: true },
  { name: "multi-paxos", kv: true },
  { name: "zab", kv: true },
  { name: "basic-paxos", kv: false },
];

/** Whether engine `name` serves the KV store (false: Basic Paxos's registers). */
export function servesKv(name) {
  return engines.find((e) => e.name === name)?.kv ?? true;
}

/** The engines named by `--engines a,b` (all when absent), refusing names the list does not have. */
export function selectEngines(text) {
  if (text === undefined) return engines;
  return text.split(",").map((name) => {
    const engine = engines.find((e) => e.name === name.trim());
    if (engine === undefined)
      throw new Error(`unknown engine ${name}; known: ${engines.map((e) => e.name).join(", ")}`);
    return engine;
  });
}

/** A measurement's result when the engine could not be run: a short reason for the table, and the detail. */
export function unavailable(reason, detail = reason) {
  return { available: false, reason, detail };
}

export const notInBuild = "not available in this build";
