/**
 * Parsers for command-line values. Each throws commander's InvalidArgumentError with a message that
 * says what was expected, so a bad flag (or a bad value from its environment variable) is one clear
 * line on stderr and exit status 2.
 */
import { InvalidArgumentError } from "commander";
import { consistencies, parseEndpoints, type Consistency } from "../client/index.js";

const durationUnitsMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const durationPattern = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const durationPart = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** "30s", "500ms", "2m", "1h", "1m30s", "1.5s" → milliseconds (> 0). A bare number has no unit and is refused. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    throw new InvalidArgumentError(`"${text}" has no unit: write e.g. ${trimmed}s or ${trimmed}ms.`);
  }
  if (!durationPattern.test(trimmed)) {
    throw new InvalidArgumentError(
      `"${text}" is not a duration: use a number and a unit ms, s, m or h (e.g. 30s, 500ms, 2m, 1m30s).`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(durationPart))
    ms += Number(amount) * (durationUnitsMs[unit ?? ""] ?? 0);
  if (!(ms > 0)) throw new InvalidArgumentError(`"${text}" is zero: a duration must be positive.`);
  if (ms > 7 * 24 * 3_600_000) throw new InvalidArgumentError(`"${text}" is longer than the maximum of 7 days.`);
  return ms;
}

/** A decimal integer in [min, max]. */
export function integerParser(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return value;
  };
}

/** "host:port,host:port" → the list, each checked. */
export function parseEndpointList(text: string): string[] {
  try {
    return parseEndpoints(text).map((endpoint) => endpoint.label);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? `${error.message}.` : String(error));
  }
}

export function parseConsistency(text: string): Consistency {
  const level = consistencies.find((c) => c === text.trim());
  if (level === undefined) throw new InvalidArgumentError(`expected one of ${consistencies.join(", ")}.`);
  return level;
}

export type BenchOp = "put" | "get" | "cas";
export const benchOps: readonly BenchOp[] = ["put", "get", "cas"];

/** Relative weights of the bench's operations; at least one is positive. */
export type Mix = Readonly<Record<BenchOp, number>>;

/** "put=1,get=9" → weights; an op not named weighs 0. */
export function parseMix(text: string): Mix {
  const mix: Record<BenchOp, number> = { put: 0, get: 0, cas: 0 };
  const seen = new Set<string>();
  for (const part of text.split(",").map((p) => p.trim())) {
    const match = /^([a-z]+)=(\d+(?:\.\d+)?)$/.exec(part);
    const op = benchOps.find((o) => o === match?.[1]);
    if (match === null) throw new InvalidArgumentError(`"${part}" is not op=weight (e.g. put=1,get=9,cas=0).`);
    if (op === undefined)
      throw new InvalidArgumentError(`unknown op "${match[1]}": the ops are ${benchOps.join(", ")}.`);
    if (seen.has(op)) throw new InvalidArgumentError(`"${op}" is given twice.`);
    seen.add(op);
    mix[op] = Number(match[2]);
  }
  if (benchOps.every((op) => mix[op] === 0))
    throw new InvalidArgumentError("every weight is 0: give at least one op a positive weight.");
  return mix;
}

export function formatMix(mix: Mix): string {
  return benchOps.map((op) => `${op}=${mix[op]}`).join(",");
}

const truthy = new Set(["1", "true", "yes", "on"]);
const falsy = new Set(["0", "false", "no", "off", ""]);

/** A boolean flag's environment variable: 1/true/yes/on or 0/false/no/off (or empty). */
export function parseEnvFlag(name: string, value: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (truthy.has(normalized)) return true;
  if (falsy.has(normalized)) return false;
  throw new InvalidArgumentError(
    `environment variable ${name}="${value}" is not a boolean: use 1/true/yes/on or 0/false/no/off.`,
  );
}
