import type { Command } from "commander";
import type { Consistency, RangeSelector } from "../../client/index.js";
import { addClientOptions, clientFlags, envOption, exitCodes, print, withClient, type CliIo } from "../context.js";
import { display, kvJson } from "../format.js";
import { integerParser, parseConsistency } from "../options.js";

interface RangeOptions {
  prefix?: string;
  from?: string;
  to?: string;
  limit?: number;
  consistency?: Consistency;
}

/** The smallest key: keys are at least one byte, so [0x00, ∞) is every key. */
const firstKey = "\u0000";

/** `raftkv range [--prefix P | --from A --to B] [--limit N]`: keys in order, `key<TAB>value` per line. */
export function registerRange(program: Command, io: CliIo): void {
  const command = program
    .command("range")
    .description("list keys in order: by prefix, in [from, to), or all")
    .addOption(envOption("--prefix <prefix>", "keys that start with this", "RAFTKV_PREFIX"))
    .addOption(envOption("--from <key>", "first key (inclusive)", "RAFTKV_FROM"))
    .addOption(envOption("--to <key>", "end key (exclusive); without it, to the last key", "RAFTKV_TO"))
    .addOption(envOption("--limit <n>", "at most this many keys", "RAFTKV_LIMIT").argParser(integerParser(1, 10_000)))
    .addOption(
      envOption(
        "--consistency <level>",
        "linearizable (default), lease or serializable",
        "RAFTKV_CONSISTENCY",
      ).argParser(parseConsistency),
    );
  addClientOptions(command).action(async (options: RangeOptions, command: Command) => {
    if (options.prefix !== undefined && (options.from !== undefined || options.to !== undefined)) {
      command.error("error: --prefix cannot be combined with --from/--to", { exitCode: exitCodes.usage });
    }
    const selector: RangeSelector =
      options.prefix !== undefined
        ? { prefix: options.prefix }
        : { from: options.from ?? firstKey, ...(options.to === undefined ? {} : { to: options.to }) };
    const flags = clientFlags(command);
    const result = await withClient(flags, (client) =>
      client.range(selector, {
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.consistency === undefined ? {} : { consistency: options.consistency }),
      }),
    );
    const human = result.kvs.map((kv) => `${display(kv.key)}\t${display(kv.value)}`).join("\n");
    if (flags.json) print(io, flags, "", { kvs: result.kvs.map(kvJson), more: result.more, revision: result.revision });
    else if (human !== "") print(io, flags, human, undefined);
    if (result.more && !flags.json)
      io.stderr.write("(more keys: raise --limit or continue with --from after the last key)\n");
  });
}
