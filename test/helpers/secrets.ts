import { randomBytes } from 'node:crypto';

/**
 * A PEM bundle of about `size` characters of fresh random key material in 64-character lines, like a CA bundle or
 * a private key a user stores as a secret (random, so no scanner mistakes it for a real key and no test passes
 * because a value happens to be known).
 */
export function pemBundle(size: number, label = 'CERTIFICATE'): string {
  const body = randomBytes(Math.ceil((size * 3) / 4)).toString('base64').match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${body.join('\n')}\n-----END ${label}-----\n`;
}

/** The key-material lines of a PEM bundle (what a redaction must never let through, one by one). */
export function pemLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l && !l.startsWith('-----'));
}
