// How this disk takes durable appends made at once by several processes, as a 3-member cluster on
// one disk makes them (docs/performance.md): K processes each append 200-byte records to their own
// file, each followed by fdatasync ("fdatasync"), or written to a file opened with O_DSYNC, one
// syscall and one thread-pool trip per record ("dsync"). Prints each process's p50 and p90.
//
// Usage: node bench/fsync_overlap.mjs [--processes 1,2,3] [--records 400] [--rounds 2] [--dir DIR]
import { fork } from "node:child_process";
import { constants, mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fmtMs, percentile } from "./lib/load.mjs";

const recordBytes = 200;

async function appender(dir, records, mode) {
  const flags = mode === "dsync" ? constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC : "w+";
  const file = await open(join(dir, "log"), flags);
  const record = Buffer.alloc(recordBytes, 0x5a);
  const latencies = new Float64Array(records);
  for (let i = 0; i < records; i++) {
    const started = performance.now();
    await file.write(record, 0, record.length, i * recordBytes);
    if (mode === "fdatasync") await file.datasync();
    latencies[i] = performance.now() - started;
  }
  await file.close();
  latencies.sort();
  return { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9) };
}

if (process.argv[2] === "--child") {
  const [, , , dir, records, mode] = process.argv;
  process.send(await appender(dir, Number(records), mode), () => process.exit(0));
} else {
  const { values: opts } = parseArgs({
    options: {
      processes: { type: "string", default: "1,2,3" },
      records: { type: "string", default: "400" },
      rounds: { type: "string", default: "2" },
      dir: { type: "string", default: tmpdir() },
    },
  });
  const root = mkdtempSync(join(opts.dir, "raftkv-fsync-overlap-"));
  console.log("| round | processes | mode | each process's p50 / p90 ms |\n|---|---|---|---|");
  for (let round = 1; round <= Number(opts.rounds); round++) {
    for (const k of opts.processes.split(",").map(Number)) {
      for (const mode of ["fdatasync", "dsync"]) {
        const results = await Promise.all(
          Array.from({ length: k }, (_, i) => {
            const dir = mkdtempSync(join(root, `p${i}-`));
            const child = fork(process.argv[1], ["--child", dir, opts.records, mode]);
            return new Promise((resolve) => child.once("message", resolve));
          }),
        );
        const shown = results.map((r) => `${fmtMs(r.p50)} / ${fmtMs(r.p90)}`).join(", ");
        console.log(`| ${round} | ${k} | ${mode} | ${shown} |`);
      }
    }
  }
  rmSync(root, { recursive: true, force: true });
}
