/**
 * Certificates for TLS between members and clients: a self-signed CA and leaf certificates it
 * signs, ECDSA P-256 with SHA-256, made with node:crypto alone.
 *
 * Hand-written on purpose: node:crypto makes keys and signatures but no certificates, and no
 * well-kept pure-JS library writes X.509 without a heavy dependency tree (node-forge carries its
 * own crypto, @peculiar/x509 pulls in a dozen ASN.1 and polyfill packages), while the DER this
 * needs is a page (der.ts).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { isIP } from "node:net";
import {
  bitString,
  boolean,
  explicit,
  ipAddressBytes,
  objectIdentifier,
  octetString,
  sequence,
  set,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from "./der.js";

/** A certificate and its private key, both PEM. */
export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA: its certificate and key, and the name it signs as. */
export interface CertificateAuthority extends Issued {
  readonly commonName: string;
}

interface LeafOptions {
  readonly commonName: string;
  /** subjectAltName entries: host names and IP addresses (v4 or v6) the certificate is valid for. */
  readonly hosts?: readonly string[];
  /** Default 365. */
  readonly days?: number;
}

const oid = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** keyUsage bits, numbered from the most significant bit of the first byte (RFC 5280 4.2.1.3). */
const digitalSignature = 0x80;
const keyCertSign = 0x04;
const cRLSign = 0x02;
/** The validity starts this long before now, so that a member whose clock is slightly behind accepts it. */
const backdateMs = 60 * 60 * 1000;
const dayMs = 24 * 60 * 60 * 1000;

export function createCertificateAuthority(options: { commonName: string; days?: number }): CertificateAuthority {
  const { publicKey, privateKey } = newKeyPair();
  const keyId = keyIdentifier(publicKey);
  const certPem = signCertificate({
    issuer: options.commonName,
    subject: options.commonName,
    publicKey,
    signer: privateKey,
    days: options.days ?? 3650,
    extensions: [
      extension(oid.basicConstraints, sequence(boolean(true)), true),
      extension(oid.keyUsage, bitString(Buffer.from([digitalSignature | keyCertSign | cRLSign]), 1), true),
      extension(oid.subjectKeyIdentifier, octetString(keyId)),
    ],
  });
  return { certPem, keyPem: pemKey(privateKey), commonName: options.commonName };
}

/** A certificate for `options.hosts` signed by `ca`, good for both ends of a TLS connection. */
export function issueCertificate(ca: CertificateAuthority, options: LeafOptions): Issued {
  const { publicKey, privateKey } = newKeyPair();
  const caKey = createPrivateKey(ca.keyPem);
  const names = (options.hosts ?? []).map((host) =>
    isIP(host) === 0 ? tlv(0x82, Buffer.from(host, "ascii")) : tlv(0x87, ipAddressBytes(host)),
  );
  const extensions = [
    extension(oid.basicConstraints, sequence(), true),
    extension(oid.keyUsage, bitString(Buffer.from([digitalSignature]), 7), true),
    extension(oid.extKeyUsage, sequence(objectIdentifier(oid.serverAuth), objectIdentifier(oid.clientAuth))),
    extension(oid.subjectKeyIdentifier, octetString(keyIdentifier(publicKey))),
    extension(oid.authorityKeyIdentifier, sequence(tlv(0x80, keyIdentifier(createPublicKey(caKey))))),
  ];
  if (names.length > 0) extensions.push(extension(oid.subjectAltName, sequence(...names)));
  const certPem = signCertificate({
    issuer: ca.commonName,
    subject: options.commonName,
    publicKey,
    signer: caKey,
    days: options.days ?? 365,
    extensions,
  });
  return { certPem, keyPem: pemKey(privateKey) };
}

function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "prime256v1" });
}

function pemKey(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

/** RFC 5280 allows any method that yields unique identifiers: SHA-1 of the encoded public key. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash("sha1")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest();
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(objectIdentifier(oid.commonName), utf8String(commonName))));
}

function extension(id: string, value: Uint8Array, critical = false): Buffer {
  return sequence(objectIdentifier(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function signCertificate(args: {
  issuer: string;
  subject: string;
  publicKey: KeyObject;
  signer: KeyObject;
  days: number;
  extensions: readonly Buffer[];
}): string {
  const now = Date.now();
  const algorithm = sequence(objectIdentifier(oid.ecdsaWithSha256));
  // 16 random bytes, top bit cleared: positive, unique, and within the 20 bytes RFC 5280 allows.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // version 3
    unsignedInteger(serial),
    algorithm,
    name(args.issuer),
    sequence(time(new Date(now - backdateMs)), time(new Date(now + args.days * dayMs))),
    name(args.subject),
    args.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(...args.extensions)),
  );
  const signature = sign("sha256", tbs, { key: args.signer, dsaEncoding: "der" });
  const der = sequence(tbs, algorithm, bitString(signature));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
