// IP addresses and CIDR blocks as sortable keys: every address, IPv4 or IPv6, becomes the 32 hex
// digits of its IPv6 form (IPv4 as ::ffff:a.b.c.d), so an exact address is one key and a CIDR
// block one inclusive range of keys, compared as strings (fixed length, lower case).

import { isIPv4, isIPv6 } from 'node:net';
import type { IpRange } from './model';

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/**
 * The 16 bytes of an address isIPv6 accepted (so it has at most one `::`, eight groups in all,
 * and a valid IPv4 tail if any); a zone id (`%eth0`) is dropped.
 */
function ipv6Bytes(address: string): number[] {
  let [text = ''] = address.split('%');
  // An IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  const tail = last.includes('.') ? ipv4Bytes(last) : undefined;
  if (tail) text = `${text.slice(0, lastColon + 1)}0:0`;
  const [head = '', rest] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = Array<string>(8 - left.length - right.length).fill('0');
  const bytes = [...left, ...zeros, ...right].flatMap((group) => {
    const value = Number.parseInt(group, 16); // any case
    return [value >> 8, value & 0xff];
  });
  if (tail) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The 16 bytes of an address (IPv4 mapped), or undefined when it is not an IP address. */
function addressBytes(address: string): number[] | undefined {
  if (isIPv4(address)) return [...Array<number>(10).fill(0), 0xff, 0xff, ...ipv4Bytes(address)];
  if (isIPv6(address)) return ipv6Bytes(address);
  return undefined;
}

const hex = (bytes: readonly number[]) =>
  bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');

/** The key of an address; undefined when `address` is not an IPv4 or IPv6 address. */
export function ipKey(address: string): string | undefined {
  const bytes = addressBytes(address.trim());
  return bytes ? hex(bytes) : undefined;
}

/**
 * The keys an address (`10.0.0.1`, `2001:db8::1`) or CIDR block (`10.0.0.0/8`, `2001:db8::/32`)
 * covers; undefined when it is neither. The prefix length counts in the address's own family
 * (0-32 for IPv4, 0-128 for IPv6); host bits set below the prefix are ignored, as routers do.
 */
export function ipRange(text: string): IpRange | undefined {
  const [address = '', prefix, ...rest] = text.trim().split('/');
  if (rest.length > 0) return undefined;
  const bytes = addressBytes(address);
  if (!bytes) return undefined;
  const familyBits = isIPv4(address) ? 32 : 128;
  let bits = familyBits;
  if (prefix !== undefined) {
    if (!/^\d{1,3}$/.test(prefix)) return undefined;
    bits = Number(prefix);
    if (bits > familyBits) return undefined;
  }
  const fixed = 128 - familyBits + bits;
  const low: number[] = [];
  const high: number[] = [];
  bytes.forEach((byte, i) => {
    const keep = Math.max(0, Math.min(8, fixed - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    low.push(byte & mask);
    high.push((byte & mask) | (~mask & 0xff));
  });
  return { low: hex(low), high: hex(high) };
}
