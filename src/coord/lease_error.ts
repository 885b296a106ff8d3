/**
 * A lease request refused for the lease's sake (nothing was changed): it does not exist (never
 * granted, revoked, or expired), or the id asked for is in use. A node's own refusals (not the
 * leader, timeouts) are NodeRequestErrors.
 */
export class LeaseError extends Error {
  override name = "LeaseError";
  readonly code: "leaseNotFound" | "leaseExists";
  readonly id: number;

  constructor(code: "leaseNotFound" | "leaseExists", id: number) {
    super(code === "leaseNotFound" ? `lease ${id} does not exist` : `lease ${id} exists already`);
    this.code = code;
    this.id = id;
  }
}
