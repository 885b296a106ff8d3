import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { fsDisk, makeTempDir, removeTree } from "./fs_disk.js";
import { Wal } from "./wal.js";
import { crashEntryData } from "./wal_crash_writer.js";

const writer = fileURLToPath(new URL("./wal_crash_writer.js", import.meta.url));

interface Ack {
  readonly index: number;
  readonly term: number;
}

/**
 * Resolves with the acknowledgements printed so far once at least `count` have arrived; rejects if
 * the writer exits first. The kill comes at whatever point the writer has reached by then, so each
 * run crashes it somewhere different without the test depending on timing.
 */
function awaitAcks(child: ChildProcess, count: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const acks: Ack[] = [];
    let pending = "";
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const [index, term] = line.split(" ").map(Number);
        acks.push({ index: index!, term: term! });
      }
      if (acks.length >= count) resolve(acks);
    });
    child.on("exit", (code, signal) =>
      reject(new Error(`writer exited (${code ?? signal}) after ${acks.length} acks: ${stderr}`)),
    );
  });
}

test("every acknowledged entry survives SIGKILL at varying points", async () => {
  const dir = await makeTempDir("raftkv-crash-");
  try {
    const acked = new Map<number, number>();
    for (let run = 0; run < 10; run++) {
      const child = spawn(process.execPath, [writer, dir], { stdio: ["ignore", "pipe", "pipe"] });
      // "close" comes after stdout is drained, so every ack the writer printed has been read.
      const closed = new Promise((resolve) => child.once("close", resolve));
      const acks = await awaitAcks(child, 10 + run * 23);
      child.kill("SIGKILL");
      await closed;
      // Acks that arrived after the count was reached are acknowledged too.
      for (const ack of acks) acked.set(ack.index, ack.term);

      const opened = await Wal.open(fsDisk, dir);
      if (!opened.ok) assert.fail(`run ${run}: ${opened.error.message}`);
      const { wal, recovered } = opened.value;
      await wal.close();
      const snapshotIndex = recovered.snapshot?.index ?? 0;
      const byIndex = new Map(recovered.entries.map((e) => [e.index as number, e]));
      for (const [index, term] of acked) {
        if (index <= snapshotIndex) continue;
        const entry = byIndex.get(index);
        assert.ok(entry !== undefined, `run ${run}: acknowledged entry ${index} is missing`);
        assert.equal(entry.term, term, `run ${run}: entry ${index}`);
        assert.deepEqual(entry.data, crashEntryData(index, term), `run ${run}: entry ${index}`);
      }
      const lastAcked = Math.max(...acked.keys());
      assert.ok((recovered.entries.at(-1)?.index ?? snapshotIndex) >= lastAcked);
    }
  } finally {
    await removeTree(dir);
  }
});
