/**
 * TLS material read from PEM files, and kept current: re-read on SIGHUP, and when the files change
 * (polled: they are a few KiB, and a poll sees a file replaced by rename as well as one rewritten,
 * which fs.watch does not on every platform). A change is applied once the files have read the same
 * twice in a row, so a certificate and its key written one after the other are taken together. A
 * set that does not load (a key that does not match its certificate, a half-written file) leaves
 * the material in force and is logged once; the member never stops over it.
 */
import { fsDisk } from "../storage/index.js";
import { TlsCredentials, type TlsMaterial } from "../tls/index.js";
import type { TlsPaths } from "./serve_tls_flags.js";

const pollMsDefault = 1000;

async function readMaterial(paths: TlsPaths): Promise<TlsMaterial> {
  const read = async (path: string): Promise<Buffer> => {
    try {
      return Buffer.from(await fsDisk.readFile(path));
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(paths.cert),
    read(paths.key),
    paths.ca === undefined ? undefined : read(paths.ca),
  ]);
  return { cert, key, ...(ca === undefined ? {} : { ca }) };
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const same = (x: string | Buffer | undefined, y: string | Buffer | undefined): boolean =>
    x === undefined || y === undefined ? x === y : Buffer.from(x).equals(Buffer.from(y));
  return same(a.cert, b.cert) && same(a.key, b.key) && same(a.ca, b.ca);
}

/** Reads the files into credentials; rejects with one line naming the file or the problem. */
export async function loadTlsFiles(paths: TlsPaths, what: string): Promise<TlsCredentials> {
  const material = await readMaterial(paths);
  try {
    return new TlsCredentials(material);
  } catch (error) {
    throw new Error(`${what}: ${paths.cert} and ${paths.key} do not load: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export interface TlsFollower {
  /** Re-reads the files now and applies them if they load (SIGHUP). */
  reload(): Promise<void>;
  stop(): void;
}

/** Keeps `credentials` in step with the files at `paths`. */
export function followTlsFiles(args: {
  readonly credentials: TlsCredentials;
  readonly paths: TlsPaths;
  readonly what: string;
  readonly onReloaded: (text: string) => void;
  readonly onWarning: (text: string) => void;
  readonly pollMs?: number;
}): TlsFollower {
  const { credentials, paths, what } = args;
  /** What the last poll read, to see that a change has settled. */
  let previous: TlsMaterial | undefined;
  /** The last set that failed to load, so that it is reported once. */
  let refused: TlsMaterial | undefined;
  let busy = false;
  /** The last failure to read the files, so that a file missing for a while is reported once. */
  let readFailure: string | undefined;
  const apply = (material: TlsMaterial): void => {
    if (sameMaterial(material, credentials.material)) return;
    if (refused !== undefined && sameMaterial(material, refused)) return;
    try {
      credentials.update(material);
      refused = undefined;
      args.onReloaded(`${what}: loaded new certificates from ${paths.cert}`);
    } catch (error) {
      refused = material;
      args.onWarning(`${what}: kept the certificates in use: the new files do not load: ${(error as Error).message}`);
    }
  };
  const poll = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const material = await readMaterial(paths);
      if (previous !== undefined && sameMaterial(material, previous)) apply(material);
      previous = material;
      readFailure = undefined;
    } catch (error) {
      previous = undefined;
      const text = `${what}: kept the certificates in use: ${(error as Error).message}`;
      if (text !== readFailure) args.onWarning(text);
      readFailure = text;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), args.pollMs ?? pollMsDefault);
  timer.unref();
  return {
    reload: async () => {
      try {
        refused = undefined;
        apply(await readMaterial(paths));
      } catch (error) {
        args.onWarning(`${what}: kept the certificates in use: ${(error as Error).message}`);
      }
    },
    stop: () => clearInterval(timer),
  };
}
