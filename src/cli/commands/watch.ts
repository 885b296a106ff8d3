import type { Command } from "commander";
import type { WatchSelector } from "../../client/index.js";
import { addClientOptions, clientFlags, envOption, withClient, type CliIo } from "../context.js";
import { eventJson, eventLine } from "../format.js";
import { untilInterrupted } from "../interrupt.js";
import { integerParser } from "../options.js";

interface WatchFlags {
  prefix?: boolean;
  rev?: number;
  prevKv?: boolean;
}

/**
 * `raftkv watch K [--prefix] [--rev R] [--prev-kv]`: prints each change as it comes, one line each,
 * until interrupted (exit 0) or the changes it needs are gone (exit 1, `compacted`).
 */
export function registerWatch(program: Command, io: CliIo): void {
  const command = program
    .command("watch")
    .description("print each change to a key (or to every key with a prefix) as it happens, until interrupted")
    .argument("<key>", 'the key, or with --prefix the prefix ("" for every key)')
    .addOption(envOption("--prefix", "watch every key that starts with <key>", "RAFTKV_PREFIX"))
    .addOption(
      envOption("--rev <revision>", "start at this revision (earlier changes first)", "RAFTKV_REV").argParser(
        integerParser(1, Number.MAX_SAFE_INTEGER),
      ),
    )
    .addOption(envOption("--prev-kv", "also print each key's value before the change", "RAFTKV_PREV_KV"));
  addClientOptions(command).action(async (key: string, options: WatchFlags, command: Command) => {
    const flags = clientFlags(command);
    const selector: WatchSelector = options.prefix === true ? { prefix: key } : { key };
    await untilInterrupted((interrupted) =>
      withClient(flags, async (client) => {
        const watch = client.watch(selector, {
          prevKv: options.prevKv === true,
          signal: interrupted,
          ...(options.rev === undefined ? {} : { fromRevision: options.rev }),
        });
        for await (const message of watch) {
          if (message.type !== "events") continue;
          for (const event of message.events) {
            io.stdout.write(`${flags.json ? JSON.stringify(eventJson(event)) : eventLine(event)}\n`);
          }
        }
      }),
    );
  });
}
