/**
 * What must differ between two clusters' answers to the same commands: member names, addresses and
 * ids, lease ids, the cluster id, versions, sizes, terms and indexes. `Placeholders` replaces each
 * with a stable name, so that etcd's transcript and raftkv's can be compared line by line.
 */

export interface CompatMember {
  readonly name: string;
  /** http://host:port (https:// with TLS) */
  readonly clientUrl: string;
  readonly peerUrl: string;
}

/** The cluster a compatibility script runs against. */
export interface CompatCluster {
  readonly members: readonly CompatMember[];
  /** A peer URL nothing listens on, for a learner that is added and removed without starting. */
  readonly sparePeerUrl: string;
  /** etcdctl flags every call needs (TLS files). */
  readonly etcdctlFlags?: readonly string[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class Placeholders {
  readonly #replacements: [string, string][] = [];

  constructor(cluster: CompatCluster) {
    cluster.members.forEach((member, i) => {
      this.add(member.peerUrl, `PEER${i + 1}`);
      this.add(member.clientUrl, `CLIENT${i + 1}`);
      this.add(member.clientUrl.replace(/^https?:\/\//, ""), `CLIENT${i + 1}`);
      this.add(member.name, `NAME${i + 1}`);
    });
    this.add(cluster.sparePeerUrl, "SPARE_PEER");
  }

  /** From now on `raw` (a whole word) reads as `name`. */
  add(raw: string, name: string): void {
    if (raw.length === 0) return;
    this.#replacements.push([raw, name]);
    // Longest first, so that a URL is replaced before the host:port inside it.
    this.#replacements.sort((a, b) => b[0].length - a[0].length);
  }

  apply(text: string): string {
    let out = text;
    for (const [raw, name] of this.#replacements) {
      out = out.replace(new RegExp(`(?<![\\w.-])${escapeRegExp(raw)}(?![\\w.-])`, "g"), name);
    }
    return out;
  }
}
