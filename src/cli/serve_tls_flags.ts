/** `raftkv serve`'s TLS flags: which files make up the client port's and the peer links' material. */
import { CliFailure, exitCodes } from "./context.js";

/** Paths of one end's PEM files. */
export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

export interface ServeTlsSettings {
  /** https on the client port; with `ca`, client certificates are verified (not required). */
  readonly clientTls?: TlsPaths;
  /** Mutual TLS between members: all three files. */
  readonly peerTls?: Required<TlsPaths>;
}

export const tlsFlags = {
  cert: { type: "string" },
  key: { type: "string" },
  ca: { type: "string" },
  "peer-cert": { type: "string" },
  "peer-key": { type: "string" },
  "peer-ca": { type: "string" },
} as const;

export const tlsUsage = `  --cert F --key F [--ca F]
                     https on the client port with this certificate and key (PEM); with --ca, client
                     certificates are asked for and verified against it (not required). In a TLS
                     cluster --ca must also sign the members' client-port certificates: followers
                     forward to the leader over https and verify it with --ca
  --peer-cert F --peer-key F --peer-ca F
                     mutual TLS between members: every member shows a certificate signed by the peer CA
                     and refuses any other (all three or none). Certificates reload on SIGHUP and when
                     the files change`;

function usage(message: string): CliFailure {
  return new CliFailure(exitCodes.usage, `raftkv serve: ${message}`);
}

export function resolveTlsFlags(value: (flag: keyof typeof tlsFlags) => string | undefined): ServeTlsSettings {
  const [cert, key, ca] = [value("cert"), value("key"), value("ca")];
  if ((cert === undefined) !== (key === undefined)) throw usage("--cert and --key go together");
  if (ca !== undefined && cert === undefined) throw usage("--ca needs --cert and --key (https on the client port)");
  const peer = [value("peer-cert"), value("peer-key"), value("peer-ca")] as const;
  const given = peer.filter((path) => path !== undefined).length;
  if (given !== 0 && given !== 3)
    throw usage("--peer-cert, --peer-key and --peer-ca go together: give all three or none");
  const [peerCert, peerKey, peerCa] = peer;
  return {
    ...(cert === undefined || key === undefined
      ? {}
      : { clientTls: { cert, key, ...(ca === undefined ? {} : { ca }) } }),
    ...(peerCert === undefined || peerKey === undefined || peerCa === undefined
      ? {}
      : { peerTls: { cert: peerCert, key: peerKey, ca: peerCa } }),
  };
}
