import { Option, type Command } from "commander";
import type { Compare, TxnOpResult, TxnResult } from "../../client/index.js";
import { addClientOptions, CliFailure, clientFlags, exitCodes, print, withClient, type CliIo } from "../context.js";
import { display, kvJson } from "../format.js";
import { collect, parseCompare, parseOp, spell, type TextTxnOp } from "../txn_syntax.js";

interface TxnOptions {
  if?: Compare[];
  then?: TextTxnOp[];
  else?: TextTxnOp[];
}

const syntax = `
Clauses (each flag may be repeated; ops run in the order given):
  --if   'value(KEY) = VALUE'      KEY holds VALUE
  --if   'mod(KEY) = REVISION'     KEY was last written at REVISION; mod(KEY) = 0: KEY does not exist
  --then 'put KEY VALUE' | 'get KEY' | 'del KEY'
  --else 'put KEY VALUE' | 'get KEY' | 'del KEY'
A KEY or VALUE is one word without spaces or double quotes, or a JSON string in double quotes:
"my key", "say \\"hi\\"", "line\\nbreak", "" (the empty value). = is the only comparison.
All of it is one atomic step: if every --if holds (none given: they hold), the --then ops run, else the
--else ops. A branch may write a key once; a get sees the branch's writes before it.

Prints which branch ran and each op's result (--json: the HTTP API's answer).
Exit status: 0 the --then ops ran; 1 an --if did not hold and the --else ops ran (or the request failed);
2 bad syntax; 3 the outcome is unknown (it may or may not have been applied).

Examples:
  raftkv txn --if 'mod(lock) = 0' --then 'put lock me' --else 'get lock'
  raftkv txn --if 'value(color) = red' --then 'put color blue' --then 'del "old color"'
  raftkv txn --if 'value("my key") = "hello world"' --then 'put "my key" "hello again"'`;

/** `raftkv txn --if … --then … --else …`: an atomic compare-and-branch over several keys. */
export function registerTxn(program: Command, io: CliIo): void {
  const command = program
    .command("txn")
    .description("atomically: if every --if holds run the --then ops, else the --else ops")
    .addOption(
      new Option("--if <compare>", "value(KEY) = VALUE or mod(KEY) = REVISION").argParser(collect(parseCompare)),
    )
    .addOption(new Option("--then <op>", "put KEY VALUE, get KEY or del KEY").argParser(collect(parseOp)))
    .addOption(new Option("--else <op>", "put KEY VALUE, get KEY or del KEY").argParser(collect(parseOp)))
    .addHelpText("after", syntax);
  addClientOptions(command).action(async (options: TxnOptions, command: Command) => {
    const compare = options.if ?? [];
    const success = options.then ?? [];
    const failure = options.else ?? [];
    if (compare.length + success.length + failure.length === 0)
      command.error("error: nothing to do: give --if, --then or --else (raftkv txn --help)", {
        exitCode: exitCodes.usage,
      });
    for (const [flag, ops] of [
      ["--then", success],
      ["--else", failure],
    ] as const) {
      const twice = keyWrittenTwice(ops);
      if (twice !== undefined)
        command.error(`error: the ${flag} ops write ${spell(twice)} twice: a branch may write a key once`, {
          exitCode: exitCodes.usage,
        });
    }
    const flags = clientFlags(command);
    const result = await withClient(flags, (client) => client.txn({ compare, success, failure }));
    print(io, flags, describe(result, result.succeeded ? success : failure), txnJson(result));
    if (!result.succeeded) throw new CliFailure(exitCodes.failed);
  });
}

function keyWrittenTwice(ops: readonly TextTxnOp[]): string | undefined {
  const written = new Set<string>();
  for (const op of ops) {
    if (op.type === "get") continue;
    if (written.has(op.key)) return op.key;
    written.add(op.key);
  }
  return undefined;
}

/** The branch that ran, then one line per op: the op as written, and what it did. */
function describe(result: TxnResult, ops: readonly TextTxnOp[]): string {
  const branch = result.succeeded
    ? `then: every --if held (revision ${result.revision})`
    : `else: an --if did not hold (revision ${result.revision})`;
  const lines = result.responses.map((response, i) => {
    const op = ops[i];
    const name = op === undefined ? response.type : `${op.type === "delete" ? "del" : op.type} ${spell(op.key)}`;
    return `${name}: ${outcome(response, result.revision)}`;
  });
  return [branch, ...lines].join("\n");
}

function outcome(response: TxnOpResult, revision: number): string {
  switch (response.type) {
    case "put":
      return response.revision === revision ? "OK" : `OK (revision ${response.revision})`;
    case "get":
      return response.kv === undefined ? "not found" : display(response.kv.value);
    case "delete":
      return response.deleted ? "deleted" : "not found (nothing deleted)";
  }
}

/** The HTTP API's txn answer, values as `raftkv get --json` shows them. */
function txnJson(result: TxnResult): unknown {
  return {
    succeeded: result.succeeded,
    revision: result.revision,
    responses: result.responses.map((response) => {
      switch (response.type) {
        case "put":
          return { put: { revision: response.revision } };
        case "get":
          return { get: { kv: response.kv === undefined ? null : kvJson(response.kv) } };
        case "delete":
          return { delete: { deleted: response.deleted ? 1 : 0 } };
      }
    }),
  };
}
