/** etcdserverpb's Auth service: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */
import type { ResponseHeader } from "./kv.js";
import type { Permission, UserAddOptions } from "./records.js";

export type AuthEnableRequest = Record<string, never>;
export type AuthDisableRequest = Record<string, never>;
export type AuthStatusRequest = Record<string, never>;
export interface AuthenticateRequest {
  name: string;
  password: string;
}
export interface AuthUserAddRequest {
  name: string;
  password: string;
  options?: UserAddOptions;
}
export interface AuthUserGetRequest {
  name: string;
}
export interface AuthUserDeleteRequest {
  name: string;
}
export interface AuthUserChangePasswordRequest {
  name: string;
  password: string;
}
export interface AuthUserGrantRoleRequest {
  user: string;
  role: string;
}
export interface AuthUserRevokeRoleRequest {
  name: string;
  role: string;
}
export interface AuthRoleAddRequest {
  name: string;
}
export interface AuthRoleGetRequest {
  role: string;
}
export type AuthUserListRequest = Record<string, never>;
export type AuthRoleListRequest = Record<string, never>;
export interface AuthRoleDeleteRequest {
  role: string;
}
export interface AuthRoleGrantPermissionRequest {
  name: string;
  perm?: Permission;
}
export interface AuthRoleRevokePermissionRequest {
  role: string;
  key: Uint8Array;
  rangeEnd: Uint8Array;
}
export interface AuthEnableResponse {
  header?: ResponseHeader;
}
export interface AuthDisableResponse {
  header?: ResponseHeader;
}
export interface AuthStatusResponse {
  header?: ResponseHeader;
  enabled: boolean;
  authRevision: number;
}
export interface AuthenticateResponse {
  header?: ResponseHeader;
  token: string;
}
export interface AuthUserAddResponse {
  header?: ResponseHeader;
}
export interface AuthUserGetResponse {
  header?: ResponseHeader;
  roles: string[];
}
export interface AuthUserDeleteResponse {
  header?: ResponseHeader;
}
export interface AuthUserChangePasswordResponse {
  header?: ResponseHeader;
}
export interface AuthUserGrantRoleResponse {
  header?: ResponseHeader;
}
export interface AuthUserRevokeRoleResponse {
  header?: ResponseHeader;
}
export interface AuthRoleAddResponse {
  header?: ResponseHeader;
}
export interface AuthRoleGetResponse {
  header?: ResponseHeader;
  perm: Permission[];
}
export interface AuthRoleListResponse {
  header?: ResponseHeader;
  roles: string[];
}
export interface AuthUserListResponse {
  header?: ResponseHeader;
  users: string[];
}
export interface AuthRoleDeleteResponse {
  header?: ResponseHeader;
}
export interface AuthRoleGrantPermissionResponse {
  header?: ResponseHeader;
}
export interface AuthRoleRevokePermissionResponse {
  header?: ResponseHeader;
}

export const authDescriptors: Readonly<Record<string, string>> = {
  AuthEnableRequest: "",
  AuthDisableRequest: "",
  AuthStatusRequest: "",
  AuthenticateRequest: "1 name string; 2 password string",
  AuthUserAddRequest: "1 name string; 2 password string; 3 options UserAddOptions",
  AuthUserGetRequest: "1 name string",
  AuthUserDeleteRequest: "1 name string",
  AuthUserChangePasswordRequest: "1 name string; 2 password string",
  AuthUserGrantRoleRequest: "1 user string; 2 role string",
  AuthUserRevokeRoleRequest: "1 name string; 2 role string",
  AuthRoleAddRequest: "1 name string",
  AuthRoleGetRequest: "1 role string",
  AuthUserListRequest: "",
  AuthRoleListRequest: "",
  AuthRoleDeleteRequest: "1 role string",
  AuthRoleGrantPermissionRequest: "1 name string; 2 perm Permission",
  AuthRoleRevokePermissionRequest: "1 role string; 2 key bytes; 3 rangeEnd bytes",
  AuthEnableResponse: "1 header ResponseHeader",
  AuthDisableResponse: "1 header ResponseHeader",
  AuthStatusResponse: "1 header ResponseHeader; 2 enabled bool; 3 authRevision uint64",
  AuthenticateResponse: "1 header ResponseHeader; 2 token string",
  AuthUserAddResponse: "1 header ResponseHeader",
  AuthUserGetResponse: "1 header ResponseHeader; 2 roles []string",
  AuthUserDeleteResponse: "1 header ResponseHeader",
  AuthUserChangePasswordResponse: "1 header ResponseHeader",
  AuthUserGrantRoleResponse: "1 header ResponseHeader",
  AuthUserRevokeRoleResponse: "1 header ResponseHeader",
  AuthRoleAddResponse: "1 header ResponseHeader",
  AuthRoleGetResponse: "1 header ResponseHeader; 2 perm []Permission",
  AuthRoleListResponse: "1 header ResponseHeader; 2 roles []string",
  AuthUserListResponse: "1 header ResponseHeader; 2 users []string",
  AuthRoleDeleteResponse: "1 header ResponseHeader",
  AuthRoleGrantPermissionResponse: "1 header ResponseHeader",
  AuthRoleRevokePermissionResponse: "1 header ResponseHeader",
};
