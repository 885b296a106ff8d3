/*
 * Every bound the key-value state machine enforces, in one place. The command codec and the snapshot
 * decoder reject input beyond them; the HTTP server should check the same constants first so a
 * client gets its 4xx before anything is proposed. Changing one changes what the replicated state
 * machine accepts, so all members of a cluster must run with the same values.
 */

/** A key is 1 to 8 KiB of bytes (docs/api.md). */
export const keyBytesMax = 8 * 1024;

/** A value is 0 to 1.5 MiB of bytes (docs/api.md; etcd's default request limit). */
export const valueBytesMax = 1.5 * 1024 * 1024;

/**
 * A session's client ID is 1 to 128 bytes of visible ASCII (0x21 to 0x7E): it arrives in an HTTP header
 * (`Raftkv-Client-Id`), and ASCII keeps the binary form and the string one-to-one.
 */
export const clientIdBytesMax = 128;

/** At most this many compares, and this many ops in each branch, per txn (etcd's --max-txn-ops default). */
export const txnOpsMax = 128;

/**
 * The encoded size of one command, whatever its kind: a put of the largest key and value fits with room
 * to spare, and a txn cannot carry more than a few such puts' worth. Bounds a Raft log entry.
 */
export const commandBytesMax = 2 * 1024 * 1024;

/** The most key-values one `range` call returns; callers ask for fewer and page with `more`. */
export const rangeLimitMax = 10_000;

/**
 * Default bound on the exactly-once session table: when a new client would exceed it, the session
 * used least recently (by log index) is dropped. Each entry keeps the client's last result.
 */
export const sessionsMaxDefault = 10_000;

/**
 * Default expiry of a session, in log entries: a session not used while this many entries were applied
 * is dropped. Decided by log index, never by a clock, so every replica drops it at the same entry.
 * A client retrying after its session was dropped may have its write applied twice, so this is long
 * (about 3 minutes at 50k writes/s; much longer at ordinary rates).
 */
export const sessionExpiryEntriesDefault = 10_000_000;

/**
 * The longest lease TTL, in seconds (etcd's limit: about 285 years); the shortest is the server's
 * business, since it depends on the election timeout (docs/coordination.md).
 */
export const leaseTtlSecondsMax = 9_000_000_000;

/** The most leases one checkpoint entry names; the leader splits larger checkpoints. */
export const leaseCheckpointsMax = 1000;

/** A user or role name, or a command's principal, is 1 to 128 characters of visible ASCII. */
export const authNameBytesMax = 128;

/** Bounds on the auth state, so that its snapshot section and each check stay small. */
export const authUsersMax = 10_000;
export const authRolesMax = 10_000;
export const authRolesPerUserMax = 64;
export const authPermissionsPerRoleMax = 256;

/** The token-signing key carried by `authEnable`: 32 bytes, as HMAC-SHA256 wants. */
export const tokenKeyBytes = 32;
