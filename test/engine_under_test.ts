/*
 * The consensus engine the process tests run on: RAFTKV_ENGINE (docs/engines.md), passed to every
 * member by cleanEnv; Raft when unset. A test of something an engine cannot offer says so here.
 */

export const engineUnderTest = process.env.RAFTKV_ENGINE ?? "raft";

/**
 * Why a test of membership changes or leadership transfer does not run, or false where it does:
 * Multi-Paxos runs a fixed ensemble with no transfer (docs/engines.md, "What each engine cannot offer").
 */
export const fixedEnsemble: string | false =
  engineUnderTest === "raft"
    ? false
    : `${engineUnderTest} runs a fixed ensemble: no membership changes, no leadership transfer (docs/engines.md)`;

/** The options of a test that changes membership or transfers leadership: skipped on a fixed ensemble. */
export const withMembership = { skip: fixedEnsemble };
