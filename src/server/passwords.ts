import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { PasswordHash } from "../kv/index.js";

/*
 * scrypt with a bounded cost (N = 2^14, r = 8, p = 1: about 16 MiB and tens of milliseconds a
 * computation), run asynchronously on libuv's pool and at most a few at once, so a burst of logins
 * neither blocks the event loop nor takes every thread the disk also uses.
 */
const cost = { logN: 14, r: 8, p: 1 } as const;
const saltBytes = 16;
const hashBytes = 32;
/** Stored records are ours, but a damaged parameter must not ask for gigabytes. */
const scryptMemoryMax = 64 * 1024 * 1024;
const concurrentMax = 2;

let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= concurrentMax) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, params: Omit<PasswordHash, "hash">, length: number): Promise<Buffer> {
  return limited(
    () =>
      new Promise((resolve, reject) =>
        scrypt(
          password,
          params.salt,
          length,
          { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: scryptMemoryMax },
          (error, key) => (error === null ? resolve(key) : reject(error)),
        ),
      ),
  );
}

/** A new record for `password`, with a fresh random salt. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(saltBytes);
  const hash = await derive(password, { ...cost, salt }, hashBytes);
  return { ...cost, salt, hash };
}

/** A record for users that do not exist, so that a wrong name costs as much time as a wrong password. */
const decoy: Promise<PasswordHash> = hashPassword("decoy");

/**
 * Whether `password` matches `record`. A null record (no user, or a user without a password) never
 * matches, but costs the same scrypt computation, so the answer's timing does not tell which it was.
 */
export async function verifyPassword(password: string, record: PasswordHash | null): Promise<boolean> {
  const against = record ?? (await decoy);
  let derived: Buffer;
  try {
    derived = await derive(password, against, against.hash.length);
  } catch {
    return false;
  }
  return timingSafeEqual(derived, against.hash) && record !== null;
}
