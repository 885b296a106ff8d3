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
 */
export type ClientErrorCode = "unknown_outcome" | "unavailable" | "bad_response";

export const unknownOutcome = "unknown_outcome" satisfies ClientErrorCode;
export const unavailable = "unavailable" satisfies ClientErrorCode;
export const badResponse = "bad_response" satisfies ClientErrorCode;
