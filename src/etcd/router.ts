/**
 * etcd's six v3 services on a member: every call of etcdserverpb's KV, Watch, Lease, Cluster,
 * Maintenance and Auth is registered; those raftkv serves go to their handlers, the others answer
 * UNIMPLEMENTED naming the call.
 */
import type { StreamWriter } from "../grpc/call.js";
import { GrpcRouter } from "../grpc/router.js";
import { GrpcError, Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { authenticate } from "./auth_authenticate.js";
import { authorizeCall, type EtcdCall } from "./auth_identity.js";
import * as auth from "./auth_service.js";
import { memberAdd, memberPromote, memberRemove, memberUpdate } from "./cluster_changes.js";
import { memberList } from "./cluster_service.js";
import { codecOf } from "./codecs.js";
import { range } from "./kv_service.js";
import { leaseGrant, leaseKeepAlive, leaseLeases, leaseRevoke, leaseTimeToLive } from "./lease_service.js";
import { compact, deleteRange, put, txn } from "./kv_writes.js";
import { alarm, defragment, hashAll, hashKV, moveLeader, snapshot } from "./maintenance_ops.js";
import { status } from "./maintenance_service.js";
import { etcdServices } from "./messages/services.js";
import { watch } from "./watch_service.js";

type Unary = (ctx: ServerContext, request: never, call: EtcdCall) => unknown;

const unaryCalls: Readonly<Record<string, Unary>> = {
  "/etcdserverpb.KV/Range": range,
  "/etcdserverpb.KV/Put": put,
  "/etcdserverpb.KV/DeleteRange": deleteRange,
  "/etcdserverpb.KV/Txn": txn,
  "/etcdserverpb.KV/Compact": compact,
  "/etcdserverpb.Cluster/MemberList": memberList,
  "/etcdserverpb.Cluster/MemberAdd": memberAdd,
  "/etcdserverpb.Cluster/MemberRemove": memberRemove,
  "/etcdserverpb.Cluster/MemberPromote": memberPromote,
  "/etcdserverpb.Cluster/MemberUpdate": memberUpdate,
  "/etcdserverpb.Maintenance/Status": status,
  "/etcdserverpb.Maintenance/MoveLeader": moveLeader,
  "/etcdserverpb.Maintenance/Alarm": alarm,
  "/etcdserverpb.Maintenance/Defragment": defragment,
  "/etcdserverpb.Maintenance/Hash": hashAll,
  "/etcdserverpb.Maintenance/HashKV": hashKV,
  "/etcdserverpb.Auth/AuthEnable": auth.authEnable,
  "/etcdserverpb.Auth/AuthDisable": auth.authDisable,
  "/etcdserverpb.Auth/AuthStatus": auth.authStatus,
  "/etcdserverpb.Auth/Authenticate": authenticate,
  "/etcdserverpb.Auth/UserAdd": auth.userAdd,
  "/etcdserverpb.Auth/UserGet": auth.userGet,
  "/etcdserverpb.Auth/UserList": auth.userList,
  "/etcdserverpb.Auth/UserDelete": auth.userDelete,
  "/etcdserverpb.Auth/UserChangePassword": auth.userChangePassword,
  "/etcdserverpb.Auth/UserGrantRole": auth.userGrantRole,
  "/etcdserverpb.Auth/UserRevokeRole": auth.userRevokeRole,
  "/etcdserverpb.Auth/RoleAdd": auth.roleAdd,
  "/etcdserverpb.Auth/RoleGet": auth.roleGet,
  "/etcdserverpb.Auth/RoleList": auth.roleList,
  "/etcdserverpb.Auth/RoleDelete": auth.roleDelete,
  "/etcdserverpb.Auth/RoleGrantPermission": auth.roleGrantPermission,
  "/etcdserverpb.Auth/RoleRevokePermission": auth.roleRevokePermission,
  "/etcdserverpb.Lease/LeaseGrant": leaseGrant,
  "/etcdserverpb.Lease/LeaseRevoke": leaseRevoke,
  "/etcdserverpb.Lease/LeaseTimeToLive": leaseTimeToLive,
  "/etcdserverpb.Lease/LeaseLeases": leaseLeases,
};

type ServerStream = (ctx: ServerContext, request: never, out: StreamWriter<never>, call: EtcdCall) => Promise<void>;

type Bidi = (
  ctx: ServerContext,
  requests: AsyncIterable<never>,
  out: StreamWriter<never>,
  call: EtcdCall,
) => Promise<void>;

const bidiCalls: Readonly<Record<string, Bidi>> = {
  "/etcdserverpb.Watch/Watch": watch,
  "/etcdserverpb.Lease/LeaseKeepAlive": leaseKeepAlive,
};

const serverStreamCalls: Readonly<Record<string, ServerStream>> = {
  "/etcdserverpb.Maintenance/Snapshot": snapshot,
};

export function createEtcdRouter(
  ctx: ServerContext,
  onUnexpectedError?: (path: string, error: unknown) => void,
): GrpcRouter {
  const router = new GrpcRouter(onUnexpectedError === undefined ? {} : { onUnexpectedError });
  for (const [service, calls] of Object.entries(etcdServices))
    for (const [name, requestType, responseType, kind] of calls) {
      const path = `/etcdserverpb.${service}/${name}`;
      const req = codecOf<unknown>(requestType);
      const res = codecOf<unknown>(responseType);
      const handler = unaryCalls[path];
      if (kind === "unary")
        router.unary(path, req, res, (request, call) => {
          const etcdCall = authorizeCall(ctx, path, call);
          if (handler === undefined) throw unimplementedError(path);
          return handler(ctx, request as never, etcdCall);
        });
      else if (kind === "serverStream") {
        const streamer = serverStreamCalls[path];
        router.serverStream(path, req, res, (request, out, call) => {
          const etcdCall = authorizeCall(ctx, path, call);
          if (streamer === undefined) throw unimplementedError(path);
          return streamer(ctx, request as never, out as StreamWriter<never>, etcdCall);
        });
      } else {
        const bidi = bidiCalls[path];
        router.bidi(path, req, res, async (requests, out, call) => {
          const etcdCall = authorizeCall(ctx, path, call);
          if (bidi === undefined) throw unimplementedError(path);
          return bidi(ctx, requests as AsyncIterable<never>, out as StreamWriter<never>, etcdCall);
        });
      }
    }
  return router;
}

function unimplementedError(path: string): GrpcError {
  return new GrpcError(Status.UNIMPLEMENTED, `raftkv does not implement ${path} yet`);
}
