import type { Command } from "commander";
import type { Consistency } from "../../client/index.js";
import { benchJson, benchTable, runBench } from "../bench.js";
import {
  addClientOptions,
  CliFailure,
  clientFlags,
  clientTls,
  envOption,
  exitCodes,
  print,
  type CliIo,
} from "../context.js";
import { integerParser, parseConsistency, parseDuration, parseMix, type Mix } from "../options.js";
import { progressReporter } from "../progress.js";

interface BenchFlags {
  clients: number;
  duration: number;
  valueSize: number;
  keys: number;
  mix: Mix;
  consistency: Consistency;
}

const valueBytesMax = 1.5 * 1024 * 1024;

/** `raftkv bench`: concurrent client loops for a while, then a throughput and latency table. */
export function registerBench(program: Command, io: CliIo): void {
  const command = program
    .command("bench")
    .description("load the cluster with concurrent clients, then print throughput and latency percentiles")
    .addOption(
      envOption("--clients <n>", "concurrent client loops", "RAFTKV_CLIENTS")
        .argParser(integerParser(1, 10_000))
        .default(64),
    )
    .addOption(
      envOption("--duration <duration>", "how long to run (e.g. 30s, 2m, 500ms)", "RAFTKV_DURATION")
        .argParser(parseDuration)
        .default(30_000, "30s"),
    )
    .addOption(
      envOption("--value-size <bytes>", "bytes per written value", "RAFTKV_VALUE_SIZE")
        .argParser(integerParser(0, valueBytesMax))
        .default(128),
    )
    .addOption(
      envOption("--keys <n>", "distinct keys, drawn uniformly", "RAFTKV_KEYS")
        .argParser(integerParser(1, 1_000_000_000))
        .default(100_000),
    )
    .addOption(
      envOption("--mix <weights>", "relative weights of put, get and cas", "RAFTKV_MIX")
        .argParser(parseMix)
        .default({ put: 1, get: 0, cas: 0 }, "put=1,get=0,cas=0"),
    )
    .addOption(
      envOption(
        "--consistency <level>",
        "read level for get: linearizable, lease or serializable",
        "RAFTKV_CONSISTENCY",
      )
        .argParser(parseConsistency)
        .default("linearizable"),
    );
  addClientOptions(command).action(async (options: BenchFlags, command: Command) => {
    const flags = clientFlags(command);
    const tls = await clientTls(flags);
    const progress = progressReporter(io.stderr, options.duration);
    // Ctrl-C ends the run early and still prints what was measured; a second one kills as usual.
    const stop = new AbortController();
    const onSigint = (): void => stop.abort();
    process.once("SIGINT", onSigint);
    try {
      const result = await runBench(
        {
          endpoints: flags.endpoints,
          clients: options.clients,
          durationMs: options.duration,
          valueSize: options.valueSize,
          keys: options.keys,
          mix: options.mix,
          consistency: options.consistency,
          timeoutMs: flags.timeout,
          ...(tls === undefined ? {} : { tls }),
          auth: flags.auth,
        },
        { onTick: (p) => progress.onTick(p), tickMs: progress.tickMs, signal: stop.signal },
      );
      progress.done();
      print(io, flags, benchTable(result), benchJson(result));
      if (result.total.ops === 0) throw new CliFailure(exitCodes.failed, "no operation succeeded");
    } finally {
      process.removeListener("SIGINT", onSigint);
    }
  });
}
