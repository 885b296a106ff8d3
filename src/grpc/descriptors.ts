/**
 * Protobuf codecs driven by compact descriptors, compiled once at load: a message is described by a
 * string such as "1 key bytes; 2 kvs []KeyValue; 4 version ?int64" (field number, JSON name, then
 * `[]` for repeated, `?` for a oneof member whose presence matters, and a scalar kind or a message
 * name). Decoded messages carry every scalar and repeated field (defaults when absent) and the
 * message and oneof fields that were present. Encoding sizes the whole message first, then writes it
 * into one buffer. 64-bit integers are JavaScript numbers: decoding refuses values beyond ±(2^53 − 1).
 */
import type { MessageCodec } from "./framing.js";
import { ProtoError, ProtoReader, WireType } from "./wire_reader.js";
import { ProtoWriter, varintSize } from "./wire_writer.js";

const enum Kind {
  Bytes,
  String,
  Int64,
  Uint64,
  Int32,
  Uint32,
  Bool,
  /** A uint64 id that is only displayed (another server's cluster or member id): beyond 2^53 it is rounded, not refused. */
  Id64,
  Message,
}

const kinds: Readonly<Record<string, Kind>> = {
  bytes: Kind.Bytes,
  string: Kind.String,
  int64: Kind.Int64,
  uint64: Kind.Uint64,
  id64: Kind.Id64,
  int32: Kind.Int32,
  uint32: Kind.Uint32,
  enum: Kind.Int32,
  bool: Kind.Bool,
};

interface Field {
  readonly number: number;
  readonly name: string;
  /** "Message.field", for errors. */
  readonly path: string;
  readonly kind: Kind;
  readonly repeated: boolean;
  readonly oneof: boolean;
  /** The tag's varint size (wire type included). */
  readonly tagSize: number;
  /** Varint scalars are packed when repeated. */
  readonly packed: boolean;
  readonly wireType: number;
  messageName: string;
  message: Message | undefined;
}

interface Message {
  readonly name: string;
  readonly fields: readonly Field[];
  /** Fields by number (sparse). */
  readonly byNumber: readonly (Field | undefined)[];
}

const emptyBytes = new Uint8Array(0);

/** A set of messages that refer to each other by name; codecs are made once everything is added. */
export class DescriptorRegistry {
  private readonly messages = new Map<string, Message>();
  private resolved = false;

  add(table: Readonly<Record<string, string>>): void {
    for (const [name, text] of Object.entries(table)) this.messages.set(name, parseMessage(name, text));
    this.resolved = false;
  }

  codec<T>(name: string): MessageCodec<T> {
    this.resolve();
    const message = this.messages.get(name);
    if (message === undefined) throw new Error(`no message ${name}`);
    return {
      encode: (value: T, headroom: number) => encode(message, value as Record<string, unknown>, headroom),
      decode: (bytes: Uint8Array) => decode(message, new ProtoReader(bytes), bytes.length) as T,
    };
  }

  private resolve(): void {
    if (this.resolved) return;
    for (const message of this.messages.values())
      for (const field of message.fields) {
        if (field.kind !== Kind.Message) continue;
        field.message = this.messages.get(field.messageName);
        if (field.message === undefined) throw new Error(`${field.path}: no message ${field.messageName}`);
      }
    this.resolved = true;
  }
}

function parseMessage(name: string, text: string): Message {
  const fields: Field[] = [];
  const byNumber: (Field | undefined)[] = [];
  for (const part of text === "" ? [] : text.split(";")) {
    const match = /^\s*(\d+) (\w+) (\[\])?(\?)?(\w+)\s*$/.exec(part);
    if (match === null) throw new Error(`${name}: bad descriptor ${JSON.stringify(part)}`);
    const number = Number(match[1]);
    const typeName = match[5]!;
    const kind = kinds[typeName] ?? Kind.Message;
    const repeated = match[3] !== undefined;
    const packed = repeated && kind !== Kind.Bytes && kind !== Kind.String && kind !== Kind.Message;
    const wireType =
      kind === Kind.Bytes || kind === Kind.String || kind === Kind.Message || packed
        ? WireType.lengthDelimited
        : WireType.varint;
    const field: Field = {
      number,
      name: match[2]!,
      path: `${name}.${match[2]!}`,
      kind,
      repeated,
      oneof: match[4] !== undefined,
      tagSize: varintSize(number * 8),
      packed,
      wireType,
      messageName: typeName,
      message: undefined,
    };
    fields.push(field);
    byNumber[number] = field;
  }
  return { name, fields, byNumber };
}

function decode(message: Message, reader: ProtoReader, end: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of message.fields) {
    if (field.oneof || (field.kind === Kind.Message && !field.repeated)) continue;
    out[field.name] = field.repeated ? [] : defaultOf(field.kind);
  }
  while (reader.pos < end) {
    const tag = reader.tag();
    const field = message.byNumber[tag >>> 3];
    const wireType = tag & 7;
    if (field === undefined) {
      reader.skip(wireType);
      continue;
    }
    if (field.packed && wireType === WireType.lengthDelimited) {
      readPacked(field, reader, out[field.name] as unknown[]);
      continue;
    }
    const expected = field.packed ? WireType.varint : field.wireType;
    if (wireType !== expected) throw new ProtoError(`${field.path}: wire type ${wireType}, expected ${expected}`);
    const value = field.kind === Kind.Message ? decodeNested(field.message!, reader) : readScalar(field, reader);
    if (field.repeated) (out[field.name] as unknown[]).push(value);
    else out[field.name] = value;
  }
  if (reader.pos !== end) throw new ProtoError(`${message.name}: a field runs past the end of the message`);
  return out;
}

function readPacked(field: Field, reader: ProtoReader, list: unknown[]): void {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.end) throw new ProtoError(`${field.path}: length ${length} runs past the end`);
  while (reader.pos < end) list.push(readScalar(field, reader));
  if (reader.pos !== end) throw new ProtoError(`${field.path}: a packed value runs past its field`);
}

/** A nested message, read by the same reader with its end narrowed for the time being. */
function decodeNested(message: Message, reader: ProtoReader): Record<string, unknown> {
  const length = reader.uint32();
  const end = reader.pos + length;
  const outerEnd = reader.end;
  if (end > outerEnd) throw new ProtoError(`${message.name}: length ${length} runs past the end`);
  reader.end = end;
  const value = decode(message, reader, end);
  reader.end = outerEnd;
  return value;
}

function readScalar(field: Field, reader: ProtoReader): unknown {
  switch (field.kind) {
    case Kind.Bytes:
      return reader.bytes();
    case Kind.String:
      return reader.string(field.path);
    case Kind.Int64:
      return reader.int64(field.path, true);
    case Kind.Uint64:
      return reader.int64(field.path, false);
    case Kind.Id64:
      return reader.int64(field.path, false, true);
    case Kind.Int32:
      return reader.int32();
    case Kind.Uint32:
      return reader.uint32();
    case Kind.Bool:
      return reader.bool();
    case Kind.Message:
      throw new ProtoError(`${field.path}: not a scalar`);
  }
}

function defaultOf(kind: Kind): unknown {
  switch (kind) {
    case Kind.Bytes:
      return emptyBytes;
    case Kind.String:
      return "";
    case Kind.Bool:
      return false;
    case Kind.Int64:
    case Kind.Uint64:
    case Kind.Int32:
    case Kind.Uint32:
    case Kind.Id64:
    case Kind.Message:
      return 0;
  }
}

/**
 * Sizes come first, in the order the writer will need them: each nested message's size and each
 * string's UTF-8 length is pushed here, then consumed by the write pass in the same order. One
 * array for the whole process: encoding is synchronous and not re-entrant.
 */
const sizes: number[] = [];
let sizeCursor = 0;

function encode(message: Message, value: Record<string, unknown>, headroom: number): Buffer {
  sizes.length = 0;
  const size = sizeOf(message, value);
  const writer = new ProtoWriter(Buffer.allocUnsafe(headroom + size), headroom);
  sizeCursor = 0;
  write(message, value, writer);
  return writer.buf;
}

function isDefault(kind: Kind, value: unknown): boolean {
  switch (kind) {
    case Kind.Bytes:
      return (value as Uint8Array).length === 0;
    case Kind.String:
      return value === "";
    case Kind.Bool:
      return value === false;
    case Kind.Message:
      return false;
    case Kind.Int64:
    case Kind.Uint64:
    case Kind.Int32:
    case Kind.Uint32:
    case Kind.Id64:
      return value === 0;
  }
}

function sizeOf(message: Message, value: Record<string, unknown>): number {
  let total = 0;
  for (const field of message.fields) {
    const fieldValue = value[field.name];
    if (fieldValue === undefined) continue;
    if (field.repeated) {
      const list = fieldValue as readonly unknown[];
      if (list.length === 0) continue;
      if (field.packed) {
        let packed = 0;
        for (const item of list) packed += scalarSize(field, item);
        total += field.tagSize + varintSize(packed) + packed;
        sizes.push(packed);
      } else for (const item of list) total += field.tagSize + valueSize(field, item);
      continue;
    }
    if (!field.oneof && isDefault(field.kind, fieldValue)) continue;
    total += field.tagSize + valueSize(field, fieldValue);
  }
  return total;
}

function valueSize(field: Field, value: unknown): number {
  if (field.kind === Kind.Message) {
    const index = sizes.length;
    sizes.push(0);
    const size = sizeOf(field.message!, value as Record<string, unknown>);
    sizes[index] = size;
    return varintSize(size) + size;
  }
  return scalarSize(field, value);
}

function scalarSize(field: Field, value: unknown): number {
  switch (field.kind) {
    case Kind.Bytes: {
      const length = (value as Uint8Array).length;
      return varintSize(length) + length;
    }
    case Kind.String: {
      const length = Buffer.byteLength(value as string, "utf8");
      sizes.push(length);
      return varintSize(length) + length;
    }
    case Kind.Bool:
      return 1;
    case Kind.Int64:
    case Kind.Uint64:
    case Kind.Int32:
    case Kind.Uint32:
    case Kind.Id64:
    case Kind.Message:
      // A negative int32 is sign-extended to 64 bits on the wire, as a negative int64 (ten bytes).
      return varintSize(value as number);
  }
}

function write(message: Message, value: Record<string, unknown>, writer: ProtoWriter): void {
  for (const field of message.fields) {
    const fieldValue = value[field.name];
    if (fieldValue === undefined) continue;
    if (field.repeated) {
      const list = fieldValue as readonly unknown[];
      if (list.length === 0) continue;
      if (field.packed) {
        writer.tag(field.number, WireType.lengthDelimited);
        writer.uint(sizes[sizeCursor++]!);
        for (const item of list) writeScalar(field, item, writer);
      } else
        for (const item of list) {
          writer.tag(field.number, field.wireType);
          writeValue(field, item, writer);
        }
      continue;
    }
    if (!field.oneof && isDefault(field.kind, fieldValue)) continue;
    writer.tag(field.number, field.wireType);
    writeValue(field, fieldValue, writer);
  }
}

function writeValue(field: Field, value: unknown, writer: ProtoWriter): void {
  if (field.kind === Kind.Message) {
    writer.uint(sizes[sizeCursor++]!);
    write(field.message!, value as Record<string, unknown>, writer);
  } else writeScalar(field, value, writer);
}

function writeScalar(field: Field, value: unknown, writer: ProtoWriter): void {
  switch (field.kind) {
    case Kind.Bytes:
      writer.bytes(value as Uint8Array);
      return;
    case Kind.String:
      writer.string(value as string, sizes[sizeCursor++]!);
      return;
    case Kind.Bool:
      writer.uint(value === true ? 1 : 0);
      return;
    case Kind.Int64:
    case Kind.Int32:
      writer.int(value as number);
      return;
    case Kind.Uint64:
    case Kind.Uint32:
    case Kind.Id64:
    case Kind.Message:
      writer.uint(value as number);
  }
}
