/*
 * Helpers for the auth process tests: requests with a token, tokens by name and password, and the
 * leader as members report it once auth is on (GET /v1/status then needs a token).
 */
import assert from "node:assert/strict";
import { request, until, type Member, type ProcessCluster } from "./harness.js";

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** A request with JSON `body` (or raw text) and, given a token, `Authorization: Bearer TOKEN`. */
export async function call(
  m: Member,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly token?: string; readonly authorization?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`);
  if (authorization !== undefined) headers.authorization = authorization;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const r = await request(m.clientAddr, method, path, body, headers);
  return { status: r.status, body: (r.body ?? {}) as Record<string, unknown> };
}

/** Asserts the answer's status and, for an error, its code. */
export function expectAnswer(answer: Answer, status: number, code: string | undefined, what: string): void {
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
  if (code !== undefined) assert.equal(answer.body.error, code, `${what}: ${JSON.stringify(answer.body)}`);
}

/** A token for `name`, retried until the member answers (it may be electing, or catching up). */
export async function tokenOf(m: Member, name: string, password: string): Promise<string> {
  return until(`a token for ${name} from ${m.name}`, async () => {
    const r = await call(m, "POST", "/v1/auth/authenticate", { body: { name, password } });
    if (r.status === 503) return undefined;
    expectAnswer(r, 200, undefined, `authenticate ${name} at ${m.name}`);
    return r.body.token as string;
  });
}

/** The member every running member (asked with `token`) agrees leads. */
export async function agreedLeader(cluster: ProcessCluster, token: string, among?: readonly Member[]): Promise<Member> {
  return until(
    "an agreed leader",
    async () => {
      const running = (among ?? cluster.members).filter((m) => m.process !== undefined);
      const statuses = await Promise.all(running.map((m) => call(m, "GET", "/v1/status", { token })));
      const leaders = new Set(statuses.map((s) => s.body.leader));
      const [leader] = [...leaders];
      return leaders.size === 1 && typeof leader === "string" ? cluster.member(leader) : undefined;
    },
    30_000,
  );
}

/**
 * Creates user root (with no credentials: auth is off), user `user` holding role `role` with
 * readwrite on prefix `prefix`, and enables auth; checks each answer.
 */
export async function secure(
  m: Member,
  accounts: { readonly rootPassword: string; readonly user: string; readonly password: string },
): Promise<void> {
  const steps: [string, string, unknown][] = [
    ["POST", "/v1/auth/users", { name: "root", password: accounts.rootPassword }],
    ["POST", "/v1/auth/users", { name: accounts.user, password: accounts.password }],
    ["POST", "/v1/auth/roles", { name: "app" }],
    ["POST", "/v1/auth/roles/app/permissions", { type: "readwrite", prefix: "app/" }],
    ["POST", `/v1/auth/users/${accounts.user}/roles`, { role: "app" }],
    ["POST", "/v1/auth/enable", {}],
  ];
  for (const [method, path, body] of steps) expectAnswer(await call(m, method, path, { body }), 200, undefined, path);
}
