#!/usr/bin/env node
/**
 * The `raftkv` command. Only the consensus core and its simulator exist yet; the node, the KV
 * store and its commands arrive with the product issue, and until then this says so plainly.
 */
const command = process.argv[2] ?? "help";
console.error(
  `raftkv ${command}: the networked node and KV store are not built yet; ` +
    "this release has the Raft core (raftkv/raft) and the simulator (npm run sim -- --seeds 100).",
);
process.exit(command === "help" ? 0 : 1);
