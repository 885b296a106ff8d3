#!/usr/bin/env node
/** The `raftkv` executable (package.json "bin"). Commands: src/cli/program.ts and src/cli/commands/. */
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
// Exit here, not when the event loop has drained: tearing the loop down restores the default signal
// actions while the process still lives, so a late signal (the terminal's Ctrl-C that `raftkv dev`
// forwards again to a member that has stopped) would kill it and make a clean stop an exit by signal.
// The empty writes flush what is queued first (pipes are asynchronous on some platforms).
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
