/**
 * grpc-go's passthrough resolver (etcdctl and etcd's Go client given `http://host:port`
 * endpoints) sends the whole endpoint URL as `:authority`; nghttp2 refuses an authority with a
 * `/` in it (RST_STREAM PROTOCOL_ERROR) before any JavaScript sees the request, where Go's own
 * server accepts it. The fix: that authority becomes its `host:port`, and nothing else changes.
 */
import type { HeaderField } from "../grpc/hpack_decoder.js";

const urlForm = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/]*)/;

/** `host:port` of an authority written `scheme://host:port[/...]`; undefined for any other authority. */
export function hostOfUrlAuthority(value: string): string | undefined {
  return urlForm.exec(value)?.[1];
}

export function rewriteUrlAuthority(fields: HeaderField[]): HeaderField[] {
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.name !== ":authority") continue;
    const host = hostOfUrlAuthority(field.value);
    if (host !== undefined) fields[i] = { name: field.name, value: host, neverIndexed: field.neverIndexed };
  }
  return fields;
}
