import { keyBytesMax, valueBytesMax } from "./limits.js";

/** Why `key` is not a valid key (1 to keyBytesMax bytes), or undefined. For callers validating user input. */
export function checkKey(key: Uint8Array): string | undefined {
  if (!(key instanceof Uint8Array)) return "key is not bytes";
  if (key.length === 0) return "key is empty";
  if (key.length > keyBytesMax) return `key of ${key.length} bytes exceeds ${keyBytesMax}`;
  return undefined;
}

/** Why `value` is not a valid value (0 to valueBytesMax bytes), or undefined. */
export function checkValue(value: Uint8Array): string | undefined {
  if (!(value instanceof Uint8Array)) return "value is not bytes";
  if (value.length > valueBytesMax) return `value of ${value.length} bytes exceeds ${valueBytesMax}`;
  return undefined;
}
