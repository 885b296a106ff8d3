/**
 * How a client with credentials carries a token (docs/api.md, "Authentication"). The token is added
 * by a wrapper around the transport, so every request gets it — one-shot calls, watch streams, the
 * background keepalives — without each feature knowing about it. With a user and password the client
 * authenticates on first use, one authentication at a time however many calls wait for it; a 401
 * `token_expired` or `invalid_token` makes it authenticate again once and resend that request.
 */
import { Readable } from "node:stream";
import { jsonBody, type Caller } from "./caller.js";
import { decodeAuthToken, type AuthToken } from "./auth_codec.js";
import { decodeError } from "./codec.js";
import type { Endpoint } from "./endpoints.js";
import { AuthenticationError, type RaftkvError } from "./errors.js";
import type { HttpRequest, HttpTransport } from "./transport.js";
import type { HttpStreamOutcome, HttpStreamRequest } from "./transport_stream.js";

/** The `auth` option of RaftkvClient: a user and password to authenticate with, or a token to send as is. */
export type AuthOptions = { readonly user: string; readonly password: string } | { readonly token: string };

/** Asks the cluster for a token; undefined when auth is not enabled (409 auth_not_enabled). */
async function requestToken(
  caller: Caller,
  credentials: { user: string; password: string },
): Promise<AuthToken | undefined> {
  const body = jsonBody({ name: credentials.user, password: credentials.password });
  const answer = await caller.send({ method: "POST", path: "/v1/auth/authenticate", ...body, write: false });
  if (answer.status === 409 && decodeError(answer.body)?.code === "auth_not_enabled") return undefined;
  return caller.decode(caller.ok(answer), decodeAuthToken);
}

/** 401 codes another token may cure (and `unauthenticated` when none was sent: auth was enabled since). */
const renewableCodes = new Set(["token_expired", "invalid_token"]);

export class TokenKeeper {
  readonly #caller: Caller;
  readonly #credentials: { user: string; password: string } | undefined;
  /** The token sent now; undefined before the first authentication or while auth is not enabled. */
  #token: string | undefined;
  /** The cluster has answered an authentication (or the token was given): #token is what to send. */
  #known = false;
  /** The authentication under way, which every caller waits for. */
  #pending: Promise<AuthToken | undefined> | undefined;
  /** A wrong name or password stays wrong: later calls fail the same way without asking again. */
  #refused: RaftkvError | undefined;

  constructor(options: AuthOptions, caller: Caller) {
    this.#caller = caller;
    if ("token" in options) {
      if (typeof options.token !== "string" || options.token === "") throw new RangeError("auth.token is empty");
      this.#token = options.token;
      this.#known = true;
    } else {
      if (typeof options.user !== "string" || options.user === "") throw new RangeError("auth.user is empty");
      if (typeof options.password !== "string") throw new RangeError("auth.password is not a string");
      this.#credentials = { user: options.user, password: options.password };
    }
  }

  /** The token to send; authenticates first if this client never has. */
  async current(): Promise<string | undefined> {
    if (this.#known && this.#pending === undefined) return this.#token;
    return (await this.authenticate())?.token;
  }

  /**
   * A request with `sent` was refused with a 401 `code`: the token to resend it with, or undefined
   * when another token cannot help (a fixed token, wrong credentials) and the 401 stands.
   */
  async renew(sent: string | undefined, code: string | undefined): Promise<string | undefined> {
    if (this.#credentials === undefined) return undefined;
    const curable =
      (code !== undefined && renewableCodes.has(code)) || (code === "unauthenticated" && sent === undefined);
    if (!curable) return undefined;
    // Another call may have renewed it while this one was out: resend with that one.
    const now = await this.current();
    if (now !== sent && now !== undefined) return now;
    const fresh = (await this.authenticate())?.token;
    return fresh === sent ? undefined : fresh;
  }

  /**
   * Authenticates with the client's user and password now (joining one under way) and keeps the
   * token; undefined when auth is not enabled.
   */
  authenticate(): Promise<AuthToken | undefined> {
    const credentials = this.#credentials;
    if (credentials === undefined) {
      return Promise.reject(new RangeError("this client has no user and password to authenticate with"));
    }
    if (this.#refused !== undefined) return Promise.reject(this.#refused);
    this.#pending ??= requestToken(this.#caller, credentials)
      .then(
        (answer) => {
          this.#token = answer?.token;
          this.#known = true;
          return answer;
        },
        (error: unknown) => {
          if (error instanceof AuthenticationError) this.#refused = error;
          throw error;
        },
      )
      .finally(() => (this.#pending = undefined));
    return this.#pending;
  }
}

function withToken<R extends { headers: Readonly<Record<string, string>> }>(request: R, token: string | undefined): R {
  return token === undefined
    ? request
    : { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
}

/** A transport that sends the keeper's token with every request and renews it on a curable 401. */
export function authenticatingTransport(inner: HttpTransport, keeper: TokenKeeper): HttpTransport {
  return {
    async request(endpoint: Endpoint, request: HttpRequest) {
      const sent = await keeper.current();
      const outcome = await inner.request(endpoint, withToken(request, sent));
      if (outcome.type !== "response" || outcome.status !== 401) return outcome;
      const fresh = await keeper.renew(sent, decodeError(outcome.body)?.code);
      return fresh === undefined ? outcome : inner.request(endpoint, withToken(request, fresh));
    },
    async stream(endpoint: Endpoint, request: HttpStreamRequest): Promise<HttpStreamOutcome> {
      const sent = await keeper.current();
      const outcome = await inner.stream(endpoint, withToken(request, sent));
      if (outcome.type !== "response" || outcome.status !== 401) return outcome;
      // An error answer is short: read it for its code, and hand it on as read.
      const body = await readAll(outcome.body);
      const fresh = await keeper.renew(sent, decodeError(body)?.code);
      if (fresh === undefined) return { ...outcome, body: once(body) };
      return inner.stream(endpoint, withToken(request, fresh));
    },
    close: () => inner.close(),
  };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk);
  } catch {
    // A broken error answer: its code is unknown, and the 401 stands.
  }
  return Buffer.concat(chunks);
}

function once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return Readable.from([bytes]) as AsyncIterable<Uint8Array>;
}
