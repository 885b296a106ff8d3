/** Why a message was not acted on; counted, never thrown. */
export type DropReason = "stale" | "unexpected" | "unknownPeer" | "malformed" | "leaderAlive";

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: DropReason };

export const OK: StepResult = { ok: true };
