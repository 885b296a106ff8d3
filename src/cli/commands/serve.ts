/*
 * `raftkv serve` — the lead's command. The registration hands every argument after `serve` (flags
 * included, --help too) to src/cli/serve.ts unparsed, which parses them itself (node:util parseArgs).
 */
import type { Command } from "commander";
import type { CliIo } from "../context.js";
import { serve } from "../serve.js";

export function registerServe(program: Command, io: CliIo): void {
  program
    .command("serve")
    .description("run a node (raftkv serve --help for its flags)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]")
    .action((args: string[]) => serve(args, io));
}
