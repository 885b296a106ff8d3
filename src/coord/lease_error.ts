/**
 * A lease request refused for the lease's sake (nothing was changed): it does not exist (never
 * granted, revoked, or expired), the id asked for is in use, or the request's principal lost a
 * permission it needs before its entry was applied (docs/auth.md). A node's own refusals (not the
 * leader, timeouts) are NodeRequestErrors.
 */
type LeaseErrorCode = "leaseNotFound" | "leaseExists" | "permissionDenied";

const messages: Readonly<Record<LeaseErrorCode, (id: number) => string>> = {
  leaseNotFound: (id) => `lease ${id} does not exist`,
  leaseExists: (id) => `lease ${id} exists already`,
  permissionDenied: (id) => `the request on lease ${id} was denied a permission when applied`,
};

export class LeaseError extends Error {
  override name = "LeaseError";
  readonly code: LeaseErrorCode;
  readonly id: number;

  constructor(code: LeaseErrorCode, id: number) {
    super(messages[code](id));
    this.code = code;
    this.id = id;
  }
}
