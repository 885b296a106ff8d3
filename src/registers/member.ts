import type { BasicPaxos, Message, Outcome, RegisterName, SubmitResult } from "../paxos/basic/index.js";
import type { RegisterStorage } from "./storage.js";

/** What a register request ends with: the core's outcome, a refusal, or no outcome by the deadline. */
export type RequestAnswer =
  | { readonly type: "outcome"; readonly outcome: Outcome }
  | { readonly type: "refused"; readonly error: Extract<SubmitResult, { ok: false }>["error"] }
  | { readonly type: "timeout" }
  | { readonly type: "stopped" };

interface Waiter {
  readonly resolve: (answer: RequestAnswer) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Drives one BasicPaxos core on real time and real I/O. Inputs (peer messages, ticks, requests) go to
 * the core at once; its Readies are carried out one at a time, in order: persist (fdatasync), then
 * send, then answer, then advance. Messages and answers therefore never leave before the acceptor
 * state they rely on is durable. A storage failure stops the member: what reached the disk is then
 * unknown, and guessing could break a promise.
 */
export class RegisterMember {
  readonly #core: BasicPaxos;
  readonly #storage: RegisterStorage;
  readonly #send: (messages: readonly Message[]) => void;
  readonly #onFatal: (error: unknown) => void;
  readonly #waiters = new Map<number, Waiter>();
  #nextRequest = 1;
  #pumping = false;
  #stopped = false;

  constructor(init: {
    core: BasicPaxos;
    storage: RegisterStorage;
    send: (messages: readonly Message[]) => void;
    onFatal: (error: unknown) => void;
  }) {
    this.#core = init.core;
    this.#storage = init.storage;
    this.#send = init.send;
    this.#onFatal = init.onFatal;
  }

  get core(): BasicPaxos {
    return this.#core;
  }

  step(m: Message): void {
    if (this.#stopped) return;
    this.#core.step(m);
    this.#pump();
  }

  tick(): void {
    if (this.#stopped) return;
    this.#core.tick();
    this.#pump();
  }

  /** A linearizable read (a Paxos round: see proposer.ts). */
  read(register: RegisterName, timeoutMs: number): Promise<RequestAnswer> {
    return this.#request(timeoutMs, (id) => this.#core.read(register, id));
  }

  /** Compare-and-set from version `expected`; write-once is expected 0. */
  cas(register: RegisterName, expected: number, value: Uint8Array, timeoutMs: number): Promise<RequestAnswer> {
    return this.#request(timeoutMs, (id) => this.#core.cas(register, expected, value, id));
  }

  /** Stops taking inputs; requests still waiting are answered "stopped". */
  stop(): void {
    this.#stopped = true;
    for (const [id, waiter] of this.#waiters) this.#answer(id, waiter, { type: "stopped" });
  }

  #request(timeoutMs: number, submit: (id: number) => SubmitResult): Promise<RequestAnswer> {
    if (this.#stopped) return Promise.resolve({ type: "stopped" });
    const id = this.#nextRequest++;
    const submitted = submit(id);
    if (!submitted.ok) return Promise.resolve({ type: "refused", error: submitted.error });
    const answer = new Promise<RequestAnswer>((resolve) => {
      // The core keeps the request: its round may still decide, which a later read will show.
      const timer = setTimeout(() => this.#answer(id, this.#waiters.get(id), { type: "timeout" }), timeoutMs);
      this.#waiters.set(id, { resolve, timer });
    });
    this.#pump();
    return answer;
  }

  #answer(id: number, waiter: Waiter | undefined, answer: RequestAnswer): void {
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#waiters.delete(id);
    waiter.resolve(answer);
  }

  #halted(): boolean {
    return this.#stopped;
  }

  #pump(): void {
    if (this.#pumping || this.#stopped) return;
    this.#pumping = true;
    this.#drain().then(
      () => {
        this.#pumping = false;
        // Input that arrived while the last persist was running was left to this pump: pick it up.
        if (this.#core.hasReady()) this.#pump();
      },
      (error: unknown) => {
        this.stop();
        this.#onFatal(error);
      },
    );
  }

  async #drain(): Promise<void> {
    while (!this.#halted() && this.#core.hasReady()) {
      const ready = this.#core.ready();
      await this.#storage.persist(ready);
      // stop() may have come during the fdatasync: a stopped member sends and answers nothing more.
      if (this.#halted()) return;
      this.#send(ready.messages);
      for (const result of ready.results) {
        this.#answer(result.request, this.#waiters.get(result.request), { type: "outcome", outcome: result.outcome });
      }
      this.#core.advance(ready);
    }
  }
}
