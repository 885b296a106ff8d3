/** TLS material: certificates made without native code or packages, and credentials that reload. */
export { createCertificateAuthority, issueCertificate, type CertificateAuthority, type Issued } from "./x509.js";
export { TlsCredentials, type TlsMaterial } from "./credentials.js";
