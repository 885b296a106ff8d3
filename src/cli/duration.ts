const unitsMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration such as `500ms`, `30s`, `5m` or `1h` (a positive whole number and a unit), or undefined. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h)$/.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * unitsMs[match[2]!]!;
  return ms > 0 ? ms : undefined;
}
