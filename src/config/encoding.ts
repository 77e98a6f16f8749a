/**
 * Text helpers shared by the config compiler and the evaluator: UTF-8, base64 (decoded as UTF-8, eppo-spec §3.2)
 * and md5 hex for obfuscated (CLIENT-format) configs.
 * @module
 */
import { md5 } from '@noble/hashes/legacy.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Throw as Eppo's hasher does on a lone surrogate (spark-md5 runs `encodeURIComponent`), so a key that Eppo
 * cannot hash gives the same ASSIGNMENT_ERROR, with this runtime's own message.
 */
export function assertWellFormed(text: string): void {
  if (!isWellFormed(text)) encodeURIComponent(text);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function';

/** True when the string has no lone surrogate (so its UTF-8 encoding is exact). */
export function isWellFormed(text: string): boolean {
  return hasIsWellFormed ? (text as string & { isWellFormed(): boolean }).isWellFormed() : !LONE_SURROGATE.test(text);
}

/** Lowercase hex md5 of the UTF-8 bytes; throws like Eppo on a lone surrogate. */
export function md5Hex(text: string): string {
  assertWellFormed(text);
  const d = md5(encoder.encode(text));
  let out = '';
  for (let i = 0; i < 16; i++) out += HEX[d[i]];
  return out;
}

/** Decode standard or URL-safe base64 as UTF-8 text. */
export function decodeBase64(text: string): string {
  const clean = text.replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, '');
  const bin = atob(clean.padEnd(clean.length + ((4 - (clean.length % 4)) % 4), '='));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return decoder.decode(bytes);
}

/** Standard base64 (with padding) of the UTF-8 bytes of a string, as js-base64 `encode`. */
export function encodeBase64(text: string): string {
  const bytes = encoder.encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
