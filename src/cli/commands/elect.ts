import type { Command } from "commander";
import type { Election } from "../../client/index.js";
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
import { aborted, untilInterrupted } from "../interrupt.js";
import { parseTtl } from "./lease.js";

/**
 * `raftkv elect NAME VALUE [--ttl S]`: campaigns, prints `elected NAME token=T` once elected, leads
 * until SIGINT or SIGTERM and then resigns (exit 0). Losing the lease meanwhile is exit 1.
 */
export function registerElect(program: Command, io: CliIo): void {
  const command = program
    .command("elect")
    .description("campaign to lead NAME with VALUE; once elected, lead until interrupted, then resign")
    .argument("<name>", "the election")
    .argument("<value>", "the leader's value while this process leads (e.g. its address)")
    .addOption(
      envOption("--ttl <seconds>", "seconds the leadership outlives this process if it dies", "RAFTKV_TTL")
        .argParser(parseTtl)
        .default(60),
    );
  addClientOptions(command).action(async (name: string, value: string, options: { ttl: number }, command: Command) => {
    const flags = clientFlags(command);
    await untilInterrupted((interrupted) =>
      withClient(flags, async (client) => {
        let election: Election;
        try {
          election = await client.campaign(name, value, { ttl: options.ttl, signal: interrupted });
        } catch (error) {
          if (interrupted.aborted) throw new CliFailure(exitCodes.failed, `interrupted while campaigning for ${name}`);
          throw error;
        }
        const { key, token, lease } = election;
        print(io, flags, `elected ${name} token=${token}`, { name, key, token, lease });
        const lost = await Promise.race([election.lost, aborted(interrupted).then(() => undefined)]);
        if (lost !== undefined) throw lost;
        await election.resign();
      }),
    );
  });
}
