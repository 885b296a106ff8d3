/**
 * The `raftkv` command line: one file per subcommand under commands/, registered here. Tests run it
 * in-process through runCli with captured output.
 */
import { Command, CommanderError } from "commander";
import { AuthenticationError, PermissionDeniedError, RaftkvError } from "../client/index.js";
import { registerAuth } from "./commands/auth.js";
import { registerBench } from "./commands/bench.js";
import { registerCas } from "./commands/cas.js";
import { registerDel } from "./commands/del.js";
import { registerDev } from "./commands/dev.js";
import { registerElect } from "./commands/elect.js";
import { registerGet } from "./commands/get.js";
import { registerLease } from "./commands/lease.js";
import { registerLock } from "./commands/lock.js";
import { registerMember } from "./commands/member.js";
import { registerMembers } from "./commands/members.js";
import { registerPut } from "./commands/put.js";
import { registerRange } from "./commands/range.js";
import { registerRole } from "./commands/role.js";
import { registerServe } from "./commands/serve.js";
import { registerStatus } from "./commands/status.js";
import { registerTransferLeader } from "./commands/transfer_leader.js";
import { registerTxn } from "./commands/txn.js";
import { registerUser } from "./commands/user.js";
import { registerWatch } from "./commands/watch.js";
import { CliFailure, exitCodes, fixBooleanEnv, type CliIo } from "./context.js";
import { oneLine } from "./format.js";
import { separateNewPassword } from "./new_password.js";

function createProgram(io: CliIo): Command {
  const program = new Command("raftkv")
    .description("a Raft-replicated key-value store")
    // Set before the subcommands are added: they inherit it.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Errors stay one line (commander puts "(Did you mean …?)" on a second one).
      outputError: (s, write) => write(`${oneLine(s)}\n`),
    })
    .showSuggestionAfterError(true)
    .hook("preAction", (_program, action) => fixBooleanEnv(action));

  // ---- server side (the lead's: src/cli/serve.ts, src/cli/dev.ts) ----
  registerServe(program, io);
  registerDev(program, io);

  // ---- client side ----
  registerPut(program, io);
  registerGet(program, io);
  registerDel(program, io);
  registerCas(program, io);
  registerTxn(program, io);
  registerRange(program, io);
  registerWatch(program, io);
  registerLease(program, io);
  registerLock(program, io);
  registerElect(program, io);
  registerStatus(program, io);
  registerMembers(program, io);
  registerMember(program, io);
  registerTransferLeader(program, io);
  registerBench(program, io);
  registerUser(program, io);
  registerRole(program, io);
  registerAuth(program, io);
  return program;
}

/** Runs the CLI on `argv` (the arguments after the program name); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await createProgram(io).parseAsync(separateNewPassword(argv), { from: "user" });
    return exitCodes.ok;
  } catch (error) {
    return report(error, io);
  }
}

/** One line on stderr (commander has already written its own) and the exit status. */
function report(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // --help and --version end with 0; help shown for a missing subcommand is a usage error.
    return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  }
  if (error instanceof CliFailure) {
    if (error.message !== "") io.stderr.write(`error: ${oneLine(error.message)}\n`);
    return error.exitCode;
  }
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    const problem = error instanceof AuthenticationError ? "authentication failed" : "permission denied";
    const detail = oneLine(error.message).replace(new RegExp(`^${problem}:?\\s*`, "i"), "");
    io.stderr.write(`error: ${problem}: ${detail} (${error.code})\n`);
    return exitCodes.failed;
  }
  if (error instanceof RaftkvError) {
    io.stderr.write(`error: ${oneLine(error.message)} (${error.code})\n`);
    return error.code === "unknown_outcome" ? exitCodes.unknownOutcome : exitCodes.failed;
  }
  io.stderr.write(`error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
  return exitCodes.failed;
}
