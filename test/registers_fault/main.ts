/**
 * `npm run fault:registers -- [--seconds 60] [--clients 8] [--registers 3]`: the register service's
 * fault run (run.ts) on three real processes; prints the nemesis's actions, the counts and the
 * linearizability verdict, and exits 1 on a violation.
 */
import { parseArgs } from "node:util";
import { runRegisterFault } from "./run.js";

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
