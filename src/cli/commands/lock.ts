import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import type { Lock, RaftkvError } from "../../client/index.js";
import { addClientOptions, CliFailure, clientFlags, envOption, exitCodes, withClient, type CliIo } from "../context.js";
import { aborted, untilInterrupted, type StopSignal } from "../interrupt.js";
import { parseTtl } from "./lease.js";

/**
 * `raftkv lock NAME [--ttl S] -- COMMAND [ARGS...]`: runs the command while holding the lock, with
 * RAFTKV_LOCK_TOKEN (the fencing token) and RAFTKV_LOCK_KEY in its environment, releases the lock
 * when it exits, and exits with its status. SIGINT and SIGTERM are passed on to the command. If the
 * lock is lost meanwhile, the command gets SIGTERM and the exit status is 1: whatever it does after
 * that is no longer protected, which is why the token exists (src/client/lock.ts).
 */
export function registerLock(program: Command, io: CliIo): void {
  const command = program
    .command("lock")
    .description("run a command while holding a distributed lock (raftkv lock NAME -- COMMAND [ARGS...])")
    .argument("<name>", "the lock")
    .argument("<command...>", "the command and its arguments, after --")
    .addOption(
      envOption("--ttl <seconds>", "seconds the lock outlives this process if it dies", "RAFTKV_TTL")
        .argParser(parseTtl)
        .default(60),
    );
  addClientOptions(command).action(async (name: string, argv: string[], options: { ttl: number }, command: Command) => {
    const flags = clientFlags(command);
    const status = await untilInterrupted((interrupted) =>
      withClient(flags, async (client) => {
        const lock = await acquire(
          () => client.lock(name, { ttl: options.ttl, signal: interrupted }),
          name,
          interrupted,
        );
        let status: number;
        try {
          status = await runHolding(argv, lock, interrupted);
        } catch (error) {
          // The lease may be gone already; what went wrong with the command is the news.
          await lock.release().catch(() => undefined);
          throw error;
        }
        // The command ran and its status is the answer; a lock not released expires with its lease.
        await lock.release().catch((error: unknown) => {
          const why = error instanceof Error ? error.message : String(error);
          io.stderr.write(
            `warning: the lock ${lock.key} was not released (${why}); it expires within ${options.ttl}s\n`,
          );
        });
        return status;
      }),
    );
    if (status !== exitCodes.ok) throw new CliFailure(status);
  });
}

/** Waits for the lock; an interruption meanwhile is a failure that says so. */
async function acquire(take: () => Promise<Lock>, name: string, interrupted: AbortSignal): Promise<Lock> {
  try {
    return await take();
  } catch (error) {
    if (interrupted.aborted) throw new CliFailure(exitCodes.failed, `interrupted while waiting for the lock ${name}`);
    throw error;
  }
}

/**
 * Runs the command; resolves with the exit status to report. It shares raftkv's stdin, stdout and
 * stderr, as flock(1)'s command does: it sees the terminal as its own, and no pipe is left to wait
 * for when it exits while a process it started still holds one.
 */
function runHolding(argv: readonly string[], lock: Lock, interrupted: AbortSignal): Promise<number> {
  const [file = "", ...args] = argv;
  const child = spawn(file, args, {
    stdio: "inherit",
    env: { ...process.env, RAFTKV_LOCK_TOKEN: String(lock.token), RAFTKV_LOCK_KEY: lock.key },
  });
  let lost: RaftkvError | undefined;
  void aborted(interrupted).then(() => child.kill(interrupted.reason as StopSignal));
  void lock.lost.then((error) => {
    lost = error;
    child.kill("SIGTERM");
  });
  return new Promise((resolve, reject) => {
    child.once("error", (error) => reject(new CliFailure(exitCodes.failed, `cannot run ${file}: ${error.message}`)));
    child.once("exit", (code, signal) => {
      if (lost !== undefined) {
        reject(
          new CliFailure(
            exitCodes.failed,
            `lost the lock ${lock.key} while ${file} ran: ${lost.message} (${lost.code})`,
          ),
        );
        return;
      }
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
