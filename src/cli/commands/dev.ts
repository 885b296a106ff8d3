/*
 * `raftkv dev` — the lead's command. The registration hands every argument after `dev` (flags
 * included, --help too) to src/cli/dev.ts unparsed, which parses them itself.
 */
import type { Command } from "commander";
import type { CliIo } from "../context.js";
import { dev } from "../dev.js";

export function registerDev(program: Command, io: CliIo): void {
  program
    .command("dev")
    .description("run a local cluster of child processes (what npm start runs)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]")
    .action((args: string[]) => dev(args, io));
}
