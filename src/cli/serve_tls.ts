/**
 * The member's TLS at start: the client port's and the peer links' credentials loaded from their
 * files (a file that does not load refuses the start), kept current while it runs (tls_files.ts,
 * SIGHUP included), and a warning for a port open beyond loopback without TLS.
 */
import { isIP } from "node:net";
import type { Logger } from "../server/log.js";
import type { TlsCredentials } from "../tls/index.js";
import type { ServeSettings } from "./serve_flags.js";
import { followTlsFiles, loadTlsFiles, type TlsFollower } from "./tls_files.js";

export interface ServeTls {
  readonly client?: TlsCredentials;
  readonly peer?: TlsCredentials;
  /** Stops following the files and SIGHUP. */
  stop(): void;
}

/** Rejects with a one-line reason when a file is missing or does not load. */
export async function startServeTls(settings: ServeSettings, log: Logger): Promise<ServeTls> {
  const client = settings.clientTls === undefined ? undefined : await loadTlsFiles(settings.clientTls, "client TLS");
  const peer = settings.peerTls === undefined ? undefined : await loadTlsFiles(settings.peerTls, "peer TLS");
  warnIfOpen(log, "client", settings.listenClient, client !== undefined);
  warnIfOpen(log, "peer", settings.listenPeer, peer !== undefined);
  const followers: TlsFollower[] = [];
  const follow = (credentials: TlsCredentials | undefined, paths: ServeSettings["clientTls"], what: string): void => {
    if (credentials === undefined || paths === undefined) return;
    followers.push(
      followTlsFiles({
        credentials,
        paths,
        what,
        onReloaded: (text) => log.info(text),
        onWarning: (text) => log.warn(text),
      }),
    );
  };
  follow(client, settings.clientTls, "client TLS");
  follow(peer, settings.peerTls, "peer TLS");
  const onHangup = (): void => {
    log.info("SIGHUP: reloading the certificates");
    for (const follower of followers) void follower.reload();
  };
  if (followers.length > 0) process.on("SIGHUP", onHangup);
  return {
    ...(client === undefined ? {} : { client }),
    ...(peer === undefined ? {} : { peer }),
    stop: () => {
      process.off("SIGHUP", onHangup);
      for (const follower of followers) follower.stop();
    },
  };
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return bare === "localhost" || bare === "::1" || (isIP(bare) === 4 && bare.startsWith("127."));
}

function warnIfOpen(log: Logger, port: "client" | "peer", address: string, tls: boolean): void {
  const host = /^(.*):\d+$/.exec(address)?.[1] ?? address;
  if (tls || isLoopback(host)) return;
  const flags = port === "client" ? "--cert and --key" : "--peer-cert, --peer-key and --peer-ca";
  log.warn(
    { listen: address },
    `the ${port} port listens on ${address}, beyond loopback, without TLS: anyone who can reach it can ${
      port === "client" ? "read and write every key" : "pose as a member"
    } (give ${flags})`,
  );
}
