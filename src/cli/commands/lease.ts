import type { Command } from "commander";
import type { Lease } from "../../client/index.js";
import { addClientOptions, clientFlags, envOption, print, withClient, type CliIo } from "../context.js";
import { display, table } from "../format.js";
import { aborted, untilInterrupted } from "../interrupt.js";
import { integerParser } from "../options.js";

/** docs/coordination.md: TTLs are whole seconds up to 9e9; ids positive integers below 2^53. */
export const parseTtl = integerParser(1, 9_000_000_000);
export const parseLeaseId = integerParser(1, Number.MAX_SAFE_INTEGER);

/** `raftkv lease grant|keepalive|revoke|ttl|list`: leases, whose keys go when they end. */
export function registerLease(program: Command, io: CliIo): void {
  const lease = program.command("lease").description("grant, renew, revoke and inspect leases");
  registerGrantAndKeepAlive(lease, io);
  registerRevokeTtlAndList(lease, io);
}

function registerGrantAndKeepAlive(lease: Command, io: CliIo): void {
  const grant = lease
    .command("grant")
    .description("create a lease; keys put with --lease ID go when it ends")
    .argument("<ttl>", "seconds it lives without a keepalive", parseTtl);
  addClientOptions(grant).action(async (ttl: number, _options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const granted = await withClient(flags, (client) => client.leaseGrant(ttl));
    print(io, flags, `lease ${granted.id} granted (TTL ${granted.ttl}s)`, granted);
  });

  const keepalive = lease
    .command("keepalive")
    .description("renew a lease every third of its TTL, printing each renewal, until interrupted")
    .argument("<id>", "the lease", parseLeaseId);
  addClientOptions(keepalive).action(async (id: number, _options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const renewed = (answer: Lease): void =>
      print(io, flags, `lease ${answer.id} kept alive (TTL ${answer.ttl}s)`, answer);
    await untilInterrupted((interrupted) =>
      withClient(flags, async (client) => {
        const renewals = client.keepAlive(id, { onRenewed: renewed });
        const end = await Promise.race([renewals.done, aborted(interrupted).then(() => undefined)]);
        renewals.stop();
        if (end?.reason === "lost") throw end.error;
      }),
    );
  });
}

function registerRevokeTtlAndList(lease: Command, io: CliIo): void {
  const revoke = lease
    .command("revoke")
    .description("end a lease now, deleting its keys")
    .argument("<id>", "the lease", parseLeaseId);
  addClientOptions(revoke).action(async (id: number, _options: unknown, command: Command) => {
    const flags = clientFlags(command);
    const result = await withClient(flags, (client) => client.leaseRevoke(id));
    print(
      io,
      flags,
      `lease ${id} revoked (revision ${result.revision}, ${count(result.deleted, "key")} deleted)`,
      result,
    );
  });

  const ttl = lease
    .command("ttl")
    .description("show a lease's TTL and the time it has left")
    .argument("<id>", "the lease", parseLeaseId)
    .addOption(envOption("--keys", "also list the keys attached to it", "RAFTKV_KEYS"));
  addClientOptions(ttl).action(async (id: number, options: { keys?: boolean }, command: Command) => {
    const flags = clientFlags(command);
    const keys = options.keys === true;
    const info = await withClient(flags, (client) => client.leaseTimeToLive(id, { keys }));
    const remaining = `lease ${info.id}: TTL ${info.ttl}s, ${Math.ceil(info.remaining)}s remaining`;
    const keyLines = (info.keys ?? []).map((key) => `${display(key)}\n`).join("");
    const json = { ...info, keys: info.keys?.map(display) };
    const human = keys ? `${remaining}, ${count(info.keys?.length ?? 0, "key")}\n${keyLines}`.trimEnd() : remaining;
    print(io, flags, human, json);
  });

  addClientOptions(lease.command("list").description("list the leases")).action(
    async (_options: unknown, command: Command) => {
      const flags = clientFlags(command);
      const leases = await withClient(flags, (client) => client.leases());
      const human = table(
        ["ID", "TTL"],
        leases.map((l) => [String(l.id), `${l.ttl}s`]),
      );
      print(io, flags, human, { leases });
    },
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
