/**
 * A password as PostgreSQL stores it for SCRAM-SHA-256 authentication (RFC 5802, RFC 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. pgop sets role passwords this
 * way (ALTER ROLE ... PASSWORD '<verifier>'), so the password itself is never part of SQL text,
 * a command line or the server's log; the server cannot recover it from the verifier either.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default (scram_iterations, PostgreSQL 16+; fixed before). */
export const SCRAM_ITERATIONS = 4096;

export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): string {
  // PostgreSQL normalizes with SASLprep; NFKC is its normalization step (ASCII passes unchanged).
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}
