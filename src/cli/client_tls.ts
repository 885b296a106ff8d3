/**
 * The client commands' TLS flags: --cacert (the CA that signed the members' client-port
 * certificates), --cert and --key (this client's certificate, for a cluster that verifies one).
 * Any of them makes the client reach its endpoints over https. A problem with them throws an Error
 * whose message is the line to print (context.ts makes it a usage failure).
 */
import { Option, type Command } from "commander";
import type { ClientTls } from "../client/index.js";
import { fsDisk } from "../storage/index.js";

/** Paths as given. */
export interface ClientTlsFiles {
  readonly cacert?: string;
  readonly cert?: string;
  readonly key?: string;
}

export function addClientTlsOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--cacert <file>", "verify the nodes with this CA (PEM); endpoints use https").env("RAFTKV_CACERT"),
    )
    .addOption(new Option("--cert <file>", "client certificate (PEM), with --key").env("RAFTKV_CERT"))
    .addOption(new Option("--key <file>", "client certificate's key (PEM)").env("RAFTKV_KEY"));
}

/** The files the flags name, or undefined when none is given (plain http). */
export function clientTlsFiles(opts: { cacert?: string; cert?: string; key?: string }): ClientTlsFiles | undefined {
  const { cacert, cert, key } = opts;
  if (cacert === undefined && cert === undefined && key === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new Error("error: --cert and --key go together");
  return {
    ...(cacert === undefined ? {} : { cacert }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

export async function readClientTls(files: ClientTlsFiles): Promise<ClientTls> {
  const read = async (flag: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return Buffer.from(await fsDisk.readFile(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new Error(`error: cannot read ${flag} ${path}: ${code}`, { cause: error });
    }
  };
  const [ca, cert, key] = await Promise.all([
    read("--cacert", files.cacert),
    read("--cert", files.cert),
    read("--key", files.key),
  ]);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}
