/**
 * Exactly-once sessions (docs/api.md `Raftkv-Client-Id` / `Raftkv-Seq`). The server keeps one result per
 * client id, so a session may have only one write outstanding: a later sequence number supersedes the
 * earlier one. To let one client run writes concurrently, it keeps a pool of sessions — the first named
 * by the client id itself, the others `${clientId}.${n}` — and gives each write a session of its own.
 * A retry reuses its write's (id, seq); the next write on that session takes seq + 1.
 */

export interface Session {
  readonly clientId: string;
  /** The last sequence number used; the next write takes seqLast + 1. */
  seqLast: number;
}

export interface SessionPool {
  /** Resolves with a session no other write holds; waits while `writesInFlightMax` writes run. */
  acquire(): Promise<Session>;
  release(session: Session): void;
}

/** Visible ASCII only (0x21–0x7E), as the server requires of a client id. */
export const clientIdPattern = /^[\x21-\x7e]{1,120}$/;

export function createSessionPool(options: { clientId: string; writesInFlightMax: number }): SessionPool {
  const free: Session[] = [];
  const waiters: ((session: Session) => void)[] = [];
  let created = 0;
  return {
    acquire() {
      const session = free.pop();
      if (session !== undefined) return Promise.resolve(session);
      if (created < options.writesInFlightMax) {
        const clientId = created === 0 ? options.clientId : `${options.clientId}.${created}`;
        created++;
        return Promise.resolve({ clientId, seqLast: 0 });
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    release(session) {
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(session);
      else free.push(session);
    },
  };
}
