import { encodeCommand, type KvResult } from "../kv/index.js";
import { forbidden } from "./auth_gate.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readJson, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";

const compactBodyBytesMax = 64 * 1024;

/** POST /v1/compact {"revision":R}: forgets history before R, cluster-wide (a log entry). */
export async function compact(ctx: ServerContext, request: Request): Promise<void> {
  const body = await readJson(request.req, compactBodyBytesMax);
  const revision = typeof body === "object" && body !== null ? (body as Record<string, unknown>).revision : undefined;
  if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision < 1)
    throw new HttpError(400, "bad_request", 'the body must be {"revision": R} with R a positive integer');
  let result: KvResult;
  try {
    const command = { type: "compact", revision, principal: request.principal } as const;
    result = (await ctx.node.raft.propose(encodeCommand(command))) as KvResult;
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
  if (result.type === "compacted") {
    sendJson(request.res, 200, { compactRevision: result.compactRevision, revision: result.revision });
    return;
  }
  if (result.type === "permissionDenied") throw forbidden("root was revoked before the compaction was applied");
  if (result.type !== "compactRefused") throw new Error(`compact answered ${result.type}`);
  const revisions = { compactRevision: result.compactRevision, revision: result.revision };
  if (result.reason === "compacted")
    throw new HttpError(
      400,
      "compacted",
      `revision ${revision} is not above the compaction revision ${result.compactRevision}`,
      revisions,
    );
  throw new HttpError(
    400,
    "future_revision",
    `revision ${revision} is above the store's revision ${result.revision}`,
    revisions,
  );
}
