/** One GET of JSON from another member's client port, for the dashboard's gathering. */
import { parseAddress } from "../node/index.js";
import type { TlsCredentials } from "../tls/index.js";
import { memberRequest } from "./member_request.js";

/** Answers the parsed object (undefined for JSON that is no object); throws a one-line reason on any failure. */
export function getMemberJson(
  tls: TlsCredentials | undefined,
  address: string,
  path: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>> = {},
): Promise<Record<string, unknown> | undefined> {
  const target = parseAddress(address);
  if (target === undefined) return Promise.reject(new Error(`bad address ${address}`));
  return new Promise((resolve, reject) => {
    const req = memberRequest(tls, { host: target.host, port: target.port, path, method: "GET", headers });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(error.code === "ECONNREFUSED" ? "connection refused" : error.message));
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", () => undefined); // the request's 'error' reports it
      res.on("end", () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          reject(new Error(`answered ${res.statusCode ?? 0}`));
          return;
        }
        try {
          const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          resolve(typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined);
        } catch {
          reject(new Error("answered something that is not JSON"));
        }
      });
    });
    req.end();
  });
}
