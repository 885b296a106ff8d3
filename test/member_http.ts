/**
 * HTTP to a member's client address for the process tests: plain fetch, or node:https with the CA
 * and token of a secure cluster (fetch cannot be given a CA).
 */
import { request as httpsRequest } from "node:https";

/** How the helpers reach a secure cluster's client ports; `token` may be set once auth is on. */
export interface ClientAccess {
  readonly ca: string;
  token?: string;
}

/** Client address → how to reach it, for the members of clusters started with `access`. */
const accessByAddress = new Map<string, ClientAccess>();

/** From now on request() reaches `addr` over https with `access`. */
export function reachThrough(addr: string, access: ClientAccess): void {
  accessByAddress.set(addr, access);
}

export async function request(
  addr: string,
  method: string,
  path: string,
  body?: string | Uint8Array,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<{ status: number; body: unknown; text: string }> {
  const access = accessByAddress.get(addr);
  const { status, text } =
    access === undefined
      ? await plainRequest(addr, method, path, body, headers, timeoutMs)
      : await secureRequest(addr, access, { method, path, body, headers, timeoutMs });
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (raw values, metrics, the page): the text is there.
  }
  return { status, body: parsed, text };
}

async function plainRequest(
  addr: string,
  method: string,
  path: string,
  body: string | Uint8Array | undefined,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://${addr}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, text: await response.text() };
}

/** node:https, because fetch cannot be given a CA; the access's token unless the caller sent one. */
function secureRequest(
  addr: string,
  access: ClientAccess,
  r: {
    method: string;
    path: string;
    body: string | Uint8Array | undefined;
    headers: Record<string, string>;
    timeoutMs: number;
  },
): Promise<{ status: number; text: string }> {
  const headers = { ...r.headers };
  if (access.token !== undefined && headers.authorization === undefined)
    headers.authorization = `Bearer ${access.token}`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`https://${addr}${r.path}`, { method: r.method, headers, ca: access.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.setTimeout(r.timeoutMs, () => req.destroy(new Error(`timed out after ${r.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(r.body);
  });
}
