import type { Command } from "commander";
import { addClientOptions, CliFailure, clientFlags, exitCodes, print, withClient, type CliIo } from "../context.js";
import { display, kvJson } from "../format.js";

/** `raftkv cas K EXPECTED NEW`: sets K to NEW only if it holds EXPECTED; exit 1 when it does not. */
export function registerCas(program: Command, io: CliIo): void {
  const command = program
    .command("cas")
    .description("compare-and-set: write NEW only if KEY holds EXPECTED (exit 1 otherwise)")
    .argument("<key>")
    .argument("<expected>")
    .argument("<new>");
  addClientOptions(command).action(
    async (key: string, expected: string, value: string, _options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const result = await withClient(flags, (client) => client.cas(key, expected, value));
      if (result.succeeded) {
        print(io, flags, `OK (revision ${result.revision})`, result);
        return;
      }
      const current = result.current;
      if (flags.json) {
        print(io, flags, "", { succeeded: false, current: current === undefined ? null : kvJson(current) });
        throw new CliFailure(exitCodes.failed);
      }
      const holds = current === undefined ? "does not exist" : `holds "${display(current.value)}"`;
      throw new CliFailure(exitCodes.failed, `compare failed: ${key} ${holds}`);
    },
  );
}
