/**
 * The words of `raftkv txn`'s --if, --then and --else clauses (etcdctl's txn syntax, one clause a flag):
 *
 *   --if   'value(KEY) = VALUE'     KEY holds VALUE
 *   --if   'mod(KEY) = REVISION'    KEY was last written at REVISION (0: KEY does not exist)
 *   --then 'put KEY VALUE' | 'get KEY' | 'del KEY'   (--else alike)
 *
 * A key or value is a word without spaces or double quotes, or a JSON string in double quotes
 * ("my key", "say \"hi\"", "a\tb", ""), so any text can be written and each clause reads one way only.
 * Each parser throws commander's InvalidArgumentError: a bad clause is a usage error (exit status 2).
 */
import { InvalidArgumentError } from "commander";
import type { Compare } from "../client/index.js";

/** A txn op as a clause spells it: keys and values are text. */
export type TextTxnOp =
  | { readonly type: "put"; readonly key: string; readonly value: string }
  | { readonly type: "get"; readonly key: string }
  | { readonly type: "delete"; readonly key: string };

const quotedString = /"(?:[^"\\]|\\.)*"/y;
const space = /\s*/y;

/** Reads a clause's words one at a time, left to right. */
class Scanner {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  #skipSpace(): void {
    space.lastIndex = this.#at;
    space.exec(this.#text);
    this.#at = space.lastIndex;
  }

  atEnd(): boolean {
    this.#skipSpace();
    return this.#at >= this.#text.length;
  }

  /** Consumes `literal` if it comes next. */
  eat(literal: string): boolean {
    this.#skipSpace();
    if (!this.#text.startsWith(literal, this.#at)) return false;
    this.#at += literal.length;
    return true;
  }

  /** The next word (quotes removed), or undefined at the end; a bare word also ends at `stop`. */
  word(stop = ""): string | undefined {
    if (this.atEnd()) return undefined;
    const text = this.#text;
    if (text[this.#at] === '"') {
      quotedString.lastIndex = this.#at;
      const match = quotedString.exec(text);
      if (match === null) throw new InvalidArgumentError(`a quoted word is not closed: ${text.slice(this.#at)}`);
      let word: string;
      try {
        word = JSON.parse(match[0]) as string;
      } catch {
        throw new InvalidArgumentError(`${match[0]} is not a JSON string (escapes: \\" \\\\ \\n \\t \\uXXXX)`);
      }
      this.#at = quotedString.lastIndex;
      const next = text[this.#at];
      if (next !== undefined && !/\s/.test(next) && !stop.includes(next))
        throw new InvalidArgumentError(`put a space after the closing quote of ${match[0]}`);
      return word;
    }
    let end = this.#at;
    while (end < text.length && !/\s/.test(text.charAt(end)) && !stop.includes(text.charAt(end))) end++;
    const word = text.slice(this.#at, end);
    if (word.includes('"'))
      throw new InvalidArgumentError(`${word} has a double quote inside: quote the whole word as a JSON string`);
    this.#at = end;
    return word;
  }
}

/** `value(KEY) = VALUE` or `mod(KEY) = REVISION`. */
export function parseCompare(text: string): Compare {
  const s = new Scanner(text);
  const target = s.eat("value") ? "value" : s.eat("mod") ? "mod" : undefined;
  const expected = new InvalidArgumentError("expected value(KEY) = VALUE or mod(KEY) = REVISION");
  if (target === undefined || !s.eat("(")) throw expected;
  const key = s.word(")");
  if (key === "") throw new InvalidArgumentError("a key is at least one byte");
  if (key === undefined || !s.eat(")")) throw expected;
  if (!s.eat("=") || s.eat("="))
    throw new InvalidArgumentError("the only comparison is = (the server compares for equality)");
  const operand = s.word();
  if (operand === undefined || !s.atEnd()) throw expected;
  if (target === "value") return { key, value: operand };
  const revision = Number(operand);
  if (!/^\d+$/.test(operand) || !Number.isSafeInteger(revision))
    throw new InvalidArgumentError(`mod(KEY) compares with a revision, a whole number ≥ 0; got ${operand}`);
  return { key, modRevision: revision };
}

const opArity = { put: 2, get: 1, del: 1, delete: 1 } as const;

/** `put KEY VALUE`, `get KEY` or `del KEY` (`delete` too). */
export function parseOp(text: string): TextTxnOp {
  const s = new Scanner(text);
  const words: string[] = [];
  for (let word = s.word(); word !== undefined; word = s.word()) words.push(word);
  const [verb, key, value] = words;
  const arity = verb !== undefined && Object.hasOwn(opArity, verb) ? opArity[verb as keyof typeof opArity] : undefined;
  if (arity === undefined) throw new InvalidArgumentError("expected put KEY VALUE, get KEY or del KEY");
  if (key === undefined || words.length !== arity + 1) {
    const shape = arity === 2 ? `${verb} KEY VALUE` : `${verb} KEY`;
    throw new InvalidArgumentError(
      `${shape} takes ${arity} word${arity === 1 ? "" : "s"} after ${verb}, got ${words.length - 1} (quote a word with spaces: "my key")`,
    );
  }
  if (key === "") throw new InvalidArgumentError("a key is at least one byte");
  if (value !== undefined) return { type: "put", key, value };
  return verb === "get" ? { type: "get", key } : { type: "delete", key };
}

/** A word as a clause would spell it: bare when that reads back the same, else a JSON string. */
export function spell(word: string): string {
  return /^[^\s"()]+$/.test(word) ? word : JSON.stringify(word);
}

/** Collects a repeated flag's clauses, in the order given. */
export function collect<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => [...(previous ?? []), parse(text)];
}
