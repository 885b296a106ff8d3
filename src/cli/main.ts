#!/usr/bin/env node
/** The `raftkv` executable (package.json "bin"). Commands: src/cli/program.ts and src/cli/commands/. */
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
