/**
 * `npm run fault:registers -- [--seconds 60] [--clients 8] [--registers 3]`: the register service's
 * fault run (run.ts) on three real processes; prints the nemesis's actions, the counts and the
 * linearizability verdict, and exits 1 on a violation.
 */
import { parseArgs } from "node:util";
import { runRegisterFault } from "./run.js";

// `node --test dist/` runs every file under a test/ folder as a test file, this one included: there
// it must not start a minute-long run (test/registers_fault.test.ts is the run in npm test).
if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    clients: { type: "string", default: "8" },
    registers: { type: "string", default: "3" },
  },
  strict: true,
});
const started = performance.now();
const report = await runRegisterFault({
  seconds: Number(values.seconds),
  clients: Number(values.clients),
  registers: Number(values.registers),
  log: (line) => console.log(`${((performance.now() - started) / 1000).toFixed(1)} s  ${line}`),
});
console.log(
  `operations ${report.operations}: answered ${report.answered}, unknown ${report.unknown}; versions up to ${report.versions}; nemesis ${JSON.stringify(report.nemesis)}`,
);
console.log(
  report.violations.length === 0 ? "linearizable: yes" : `NOT linearizable:\n${report.violations.join("\n")}`,
);
if (report.violations.length > 0) process.exitCode = 1;
