/**
 * The one error type the client throws for operating failures. `code` is either the server's
 * `{"error": CODE}` (docs/api.md: "not_found", "compare_failed", "no_leader", ...) passed through, or
 * one of the client's own codes below.
 */
export class RaftkvError extends Error {
  override name = "RaftkvError";
  /** The server's error code, or a {@link ClientErrorCode}. */
  readonly code: string;
  /** The HTTP status when a server answered; undefined when none did. */
  readonly status: number | undefined;
  /** The endpoint that gave the final answer, when there was one. */
  readonly endpoint: string | undefined;

  constructor(options: {
    code: string;
    message: string;
    status?: number | undefined;
    endpoint?: string | undefined;
    cause?: unknown;
  }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
    this.endpoint = options.endpoint;
  }
}

/**
 * Codes the client produces itself:
 * - `unknown_outcome`: a write's deadline passed after an attempt whose fate is unknown (504, a dropped
 *   connection, a timeout); the write may or may not have been applied, and at most once.
 * - `unavailable`: the deadline passed and every attempt was definitely not applied (503, refused).
 * - `bad_response`: a server answered with something docs/api.md does not allow.
 * - `lease_expired`: no keepalive reached the leader within the lease's TTL, so the lease must be
 *   taken as gone (a lock or an election built on it is lost).
 * - `election_lost`: a campaign's key is no longer the one `proclaim` wrote: it is not the leader.
 */
export type ClientErrorCode = "unknown_outcome" | "unavailable" | "bad_response" | "lease_expired" | "election_lost";

export const unknownOutcome = "unknown_outcome" satisfies ClientErrorCode;
export const unavailable = "unavailable" satisfies ClientErrorCode;
export const badResponse = "bad_response" satisfies ClientErrorCode;
export const leaseExpired = "lease_expired" satisfies ClientErrorCode;
export const electionLost = "election_lost" satisfies ClientErrorCode;

/**
 * A watch cannot go on without missing changes: the events it still needs are gone. `reason`
 * `compacted`: the cluster compacted its history past them (code `compacted`, from the server);
 * `unavailable`: every member in turn said it no longer holds them (each restarted, or caught up by a
 * snapshot). Either way a new watch can start at `compactRevision` at the earliest, after re-reading
 * the state it tracks.
 */
export class WatchCompactedError extends RaftkvError {
  override name = "WatchCompactedError";
  readonly compactRevision: number;
  readonly reason: "compacted" | "unavailable";

  constructor(options: {
    reason: "compacted" | "unavailable";
    compactRevision: number;
    fromRevision: number;
    endpoint?: string | undefined;
  }) {
    const { reason, compactRevision, fromRevision } = options;
    super({
      code: "compacted",
      message:
        reason === "compacted"
          ? `the watch needs revision ${fromRevision}, but the cluster compacted its history up to ${compactRevision}`
          : `the watch needs revision ${fromRevision}, but no member holds history that far back (the oldest held starts at ${compactRevision})`,
      endpoint: options.endpoint,
    });
    this.reason = reason;
    this.compactRevision = compactRevision;
  }
}

/**
 * HTTP 401 (docs/api.md, "Authentication"): no token, a token the cluster does not accept
 * (`invalid_token`, `token_expired`; the client has already authenticated again once), or a wrong
 * name or password (`authentication_failed`). Never retried as if the cluster were unavailable.
 */
export class AuthenticationError extends RaftkvError {
  override name = "AuthenticationError";
}

/** HTTP 403 `permission_denied`: the user lacks a permission the request needs; nothing changed. */
export class PermissionDeniedError extends RaftkvError {
  override name = "PermissionDeniedError";
}
