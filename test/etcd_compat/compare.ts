/**
 * `npm run compare:etcd`: runs the compatibility scripts against a real etcd and against raftkv,
 * and prints where their normalized transcripts differ. `--write-golden` stores etcd's transcripts
 * as the golden files the tests compare raftkv with (CI has no etcd server).
 */
import { startEtcd } from "./etcd_cluster.js";
import { transcriptDiff, writeGolden } from "./golden.js";
import type { CompatCluster } from "./normalize.js";
import { startRaftkvForCompat } from "./raftkv_cluster.js";
import { compatScripts } from "./scripts.js";

// `node --test dist/` runs every file under dist/test as a test; this is a script, run by npm only.
if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);

async function transcripts(cluster: CompatCluster): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [name, script] of compatScripts) out.set(name, await script(cluster));
  return out;
}

async function main(): Promise<void> {
  const writeGoldens = process.argv.includes("--write-golden");
  const etcd = await startEtcd();
  let fromEtcd: Map<string, string[]>;
  try {
    fromEtcd = await transcripts(etcd);
  } finally {
    await etcd.stop();
  }
  if (writeGoldens) {
    for (const [name, transcript] of fromEtcd) console.log(`wrote ${await writeGolden(name, transcript)}`);
  }
  const raftkv = await startRaftkvForCompat();
  let fromRaftkv: Map<string, string[]>;
  try {
    fromRaftkv = await transcripts(raftkv);
  } finally {
    await raftkv.stop();
  }
  let differences = 0;
  for (const [name, expected] of fromEtcd) {
    const diff = transcriptDiff(expected, fromRaftkv.get(name) ?? []);
    console.log(
      `${name}: ${expected.length} lines from etcd, ${diff === "" ? "raftkv's are the same" : "raftkv differs:"}`,
    );
    if (diff !== "") {
      differences++;
      console.log(diff);
    }
  }
  process.exitCode = differences === 0 ? 0 : 1;
}

await main();
