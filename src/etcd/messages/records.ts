/** mvccpb's KeyValue and Event, authpb's User, Permission and Role: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */

export const EventEventType = { Put: 0, Delete: 1 } as const;
export const PermissionType = { Read: 0, Write: 1, Readwrite: 2 } as const;

export interface KeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: number;
}
export interface Event {
  type: number;
  kv?: KeyValue;
  prevKv?: KeyValue;
}
export interface UserAddOptions {
  noPassword: boolean;
}
export interface User {
  name: Uint8Array;
  password: Uint8Array;
  roles: string[];
  options?: UserAddOptions;
}
export interface Permission {
  permType: number;
  key: Uint8Array;
  rangeEnd: Uint8Array;
}
export interface Role {
  name: Uint8Array;
  keyPermission: Permission[];
}

export const recordsDescriptors: Readonly<Record<string, string>> = {
  KeyValue: "1 key bytes; 2 createRevision int64; 3 modRevision int64; 4 version int64; 5 value bytes; 6 lease int64",
  Event: "1 type enum; 2 kv KeyValue; 3 prevKv KeyValue",
  UserAddOptions: "1 noPassword bool",
  User: "1 name bytes; 2 password bytes; 3 roles []string; 4 options UserAddOptions",
  Permission: "1 permType enum; 2 key bytes; 3 rangeEnd bytes",
  Role: "1 name bytes; 2 keyPermission []Permission",
};
