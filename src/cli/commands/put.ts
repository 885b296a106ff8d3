import type { Command } from "commander";
import { addClientOptions, clientFlags, envOption, print, withClient, type CliIo } from "../context.js";
import { parseLeaseId } from "./lease.js";

/** `raftkv put K V [--lease ID]`: writes V under K (attached to the lease: it goes when the lease does). */
export function registerPut(program: Command, io: CliIo): void {
  const command = program
    .command("put")
    .description("write a value")
    .argument("<key>")
    .argument("<value>")
    .addOption(
      envOption("--lease <id>", "attach the key to this lease (see raftkv lease)", "RAFTKV_LEASE").argParser(
        parseLeaseId,
      ),
    );
  addClientOptions(command).action(
    async (key: string, value: string, options: { lease?: number }, command: Command) => {
      const flags = clientFlags(command);
      const lease = options.lease === undefined ? {} : { lease: options.lease };
      const result = await withClient(flags, (client) => client.put(key, value, lease));
      print(io, flags, `OK (revision ${result.revision})`, result);
    },
  );
}
