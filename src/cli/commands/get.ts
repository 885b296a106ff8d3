import type { Command } from "commander";
import type { Consistency } from "../../client/index.js";
import {
  addClientOptions,
  CliFailure,
  clientFlags,
  envOption,
  exitCodes,
  print,
  withClient,
  type CliIo,
} from "../context.js";
import { kvJson } from "../format.js";
import { parseConsistency } from "../options.js";

/** `raftkv get K`: prints the value's bytes (exit 1 with "not found" when K does not exist). */
export function registerGet(program: Command, io: CliIo): void {
  const command = program
    .command("get")
    .description("print a value")
    .argument("<key>")
    .addOption(
      envOption(
        "--consistency <level>",
        "linearizable (default), lease or serializable (local, may be stale)",
        "RAFTKV_CONSISTENCY",
      ).argParser(parseConsistency),
    );
  addClientOptions(command).action(async (key: string, options: { consistency?: Consistency }, command: Command) => {
    const flags = clientFlags(command);
    const consistency = options.consistency === undefined ? {} : { consistency: options.consistency };
    const kv = await withClient(flags, (client) => client.get(key, consistency));
    if (kv === undefined) throw new CliFailure(exitCodes.failed, `not found: ${key}`);
    if (flags.json) print(io, flags, "", kvJson(kv));
    else {
      io.stdout.write(kv.value);
      io.stdout.write("\n");
    }
  });
}
