/* Binary strings (one code unit per byte) to bytes and back, for this folder's range tests. */

export function binaryBytesForTest(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function binaryStringForTest(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}
