/**
 * Bench progress on stderr: a bar redrawn in place when stderr is a terminal, otherwise (a log, a
 * pipe) a plain line every few seconds.
 */
import type { BenchProgress } from "./bench.js";
import type { Output } from "./context.js";

interface ProgressReporter {
  readonly tickMs: number;
  onTick(progress: BenchProgress): void;
  /** Clears the bar (a terminal) before the results are printed. */
  done(): void;
}

const barWidth = 30;

export function progressReporter(stderr: Output, durationMs: number): ProgressReporter {
  const tty = stderr.isTTY === true;
  let last: BenchProgress = { elapsedMs: 0, ops: 0, errors: 0 };
  return {
    tickMs: tty ? 250 : 5000,
    onTick(progress) {
      const rate = ((progress.ops - last.ops) / Math.max(1, progress.elapsedMs - last.elapsedMs)) * 1000;
      last = progress;
      const fraction = Math.min(1, progress.elapsedMs / durationMs);
      const counts =
        `${(progress.elapsedMs / 1000).toFixed(1)}s/${(durationMs / 1000).toFixed(1)}s  ` +
        `${progress.ops} ops  ${Math.round(rate)} ops/s  ${progress.errors} errors`;
      if (tty) {
        const filled = Math.round(fraction * barWidth);
        const bar = `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
        stderr.write(`\r${bar}  ${counts}\x1b[K`);
      } else stderr.write(`bench: ${counts}\n`);
    },
    done() {
      if (tty) stderr.write("\r\x1b[K");
    },
  };
}
