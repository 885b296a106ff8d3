/**
 * One end's TLS material (its certificate, its key, the CA it verifies the other end with), which
 * can be replaced while connections are open: servers take the new material for new handshakes
 * (setSecureContext), dialers read `context` on each new connection, and established connections
 * keep the material they were made with.
 */
import { createSecureContext, type SecureContext } from "node:tls";

/** PEM text or bytes. */
export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Verifies the other end; without it the other end is not asked for a certificate. */
  readonly ca?: string | Buffer;
}

export class TlsCredentials {
  #material: TlsMaterial;
  #context: SecureContext;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();

  /** Throws (node:tls's message) when the material does not load: a bad PEM, a key not matching the certificate. */
  constructor(material: TlsMaterial) {
    this.#context = createSecureContext(material);
    this.#material = material;
  }

  get material(): TlsMaterial {
    return this.#material;
  }

  get context(): SecureContext {
    return this.#context;
  }

  /** Replaces the material and tells the listeners; throws and keeps the old material when the new one does not load. */
  update(material: TlsMaterial): void {
    this.#context = createSecureContext(material);
    this.#material = material;
    for (const listener of this.#listeners) listener(material);
  }

  /** Calls `listener` after each update; returns the function that stops it. */
  onUpdate(listener: (material: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
