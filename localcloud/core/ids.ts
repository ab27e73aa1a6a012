// Identifiers in the shapes the cloud uses. Organization ids and keys derive from a seed so a
// demo run is reproducible; STS credentials and request ids are random.

import { createHmac, randomBytes, randomUUID } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function bytesFor(seed: string, purpose: string, length: number): Buffer {
  const chunks: Buffer[] = [];
  for (let block = 0; chunks.length * 32 < length; block++) {
    chunks.push(createHmac('sha256', seed).update(`${purpose}#${block}`).digest());
  }
  return Buffer.concat(chunks).subarray(0, length);
}

function alphabetString(bytes: Uint8Array, alphabet: string): string {
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

function digits(bytes: Uint8Array, firstDigit: string): string {
  let out = firstDigit;
  for (const byte of bytes) out += String(byte % 10);
  return out;
}

/** Derives ids and keys from one seed: the same seed and purpose always give the same value. */
export class IdFactory {
  constructor(readonly seed: string) {}

  /** 16-digit account id, like the cloud's UIDs. */
  accountId(purpose: string): string {
    return digits(bytesFor(this.seed, `account:${purpose}`, 15), '1');
  }
  folderId(purpose: string): string {
    return `fd-${alphabetString(bytesFor(this.seed, `folder:${purpose}`, 10), BASE62)}`;
  }
  rootFolderId(purpose: string): string {
    return `r-${alphabetString(bytesFor(this.seed, `root:${purpose}`, 6), BASE62)}`;
  }
  directoryId(purpose: string): string {
    return `rd-${alphabetString(bytesFor(this.seed, `rd:${purpose}`, 6), LOWER_ALNUM)}`;
  }
  roleId(purpose: string): string {
    return digits(bytesFor(this.seed, `role:${purpose}`, 18), '3');
  }
  userId(purpose: string): string {
    return digits(bytesFor(this.seed, `user:${purpose}`, 15), '2');
  }
  /** `LTAI` + 20 characters, 24 in all. */
  accessKeyId(purpose: string): string {
    return `LTAI${alphabetString(bytesFor(this.seed, `akid:${purpose}`, 20), BASE62)}`;
  }
  /** 30 characters. */
  accessKeySecret(purpose: string): string {
    return alphabetString(bytesFor(this.seed, `secret:${purpose}`, 30), BASE62);
  }
}

export function randomBase62(length: number): string {
  return alphabetString(randomBytes(length), BASE62);
}

/** Request ids as POP APIs print them: an upper-case UUID. */
export function popRequestId(): string {
  return randomUUID().toUpperCase();
}
