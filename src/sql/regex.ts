/**
 * MATCHES patterns for SQL: a documented subset of ECMAScript regex syntax, re-emitted in each engine's syntax
 * only where the meaning is the same there. Everything else is refused (the flag is not compiled), never approximated.
 *
 * Accepted: literal BMP characters, escaped punctuation, `\t \n \r \f \v \xHH \uHHHH` (non-surrogate), `^` and `$`
 * (whole input: JS patterns here never carry the m flag), `.` (as a class excluding JS line terminators), classes
 * and negated classes of literal characters and ranges, `\d \D \w \W` (ASCII in every engine used), groups
 * `( )` and `(?: )`, alternation, and the quantifiers `* + ? {n} {n,} {n,m}` (n, m ≤ 1000) with optional lazy `?`.
 * Engine-specific: `\s \S \b \B` only on RE2 engines (`\s` spelled out as the ECMAScript set, `\b` is ASCII in both);
 * Snowflake (POSIX ERE) takes no `.`, `$`, class escapes, control characters or empty alternatives.
 * Refused everywhere: lookaround, backreferences, named groups, `[]`, `[^]`, `\c`, `\0`, octal, astral characters,
 * lone surrogates, and Annex-B oddities such as a `{` that is not a quantifier.
 * @module
 */
import type { RegexFlavor } from './dialects.ts';

/** A translated pattern, or why it cannot be expressed exactly. */
export type SqlRegex = { ok: true; pattern: string } | { ok: false; reason: string };

class Refuse extends Error {}

// ECMAScript \s (WhiteSpace + LineTerminator) as class members.
const WS_CODES: readonly (number | [number, number])[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, [0x2000, 0x200a], 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];
// ECMAScript line terminators: what `.` does not match.
const LINE_TERMINATORS = [0x0a, 0x0d, 0x2028, 0x2029];
// `\d` and `\w` as ASCII class members (ECMAScript's meaning), for engines whose escapes follow the locale.
const ASCII_SETS: Record<string, string> = { d: '0-9', w: '0-9A-Za-z_' };
const META = new Set(['.', '^', '$', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '\\']);

/**
 * Translate an ECMAScript pattern (no flags), known to be valid, into `flavor` syntax.
 * @returns the pattern for an unanchored search with the same answers, or the reason it is refused.
 * @example toSqlRegex('@example\\.com$', 're2') // { ok: true, pattern: '@example\\.com$' }
 */
export function toSqlRegex(source: string, flavor: RegexFlavor): SqlRegex {
  try {
    return { ok: true, pattern: new Translator(source, flavor).run() };
  } catch (err) {
    if (err instanceof Refuse) return { ok: false, reason: `pattern /${source}/ ${err.message}` };
    throw err;
  }
}

class Translator {
  #i = 0;
  #out = '';
  /** Whether the last emitted item can take a quantifier. */
  #atom = false;
  /** Whether the current alternative is still empty (POSIX ERE rejects empty alternatives). */
  #empty = true;
  constructor(readonly src: string, readonly flavor: RegexFlavor) {}

  run(): string {
    const s = this.src;
    if (s === '' && this.flavor === 'posix') throw new Refuse('is empty (POSIX ERE needs a non-empty pattern)');
    while (this.#i < s.length) {
      const c = s[this.#i];
      const code = c.charCodeAt(0);
      if (code >= 0xd800 && code <= 0xdfff) throw new Refuse('has a character outside the Basic Multilingual Plane or a lone surrogate');
      switch (c) {
        case '\\':
          this.#escape();
          break;
        case '.':
          if (this.flavor === 'posix') throw new Refuse('uses "." (the engine\'s notion of a line break is not ECMAScript\'s)');
          this.#emit(this.#class(true, LINE_TERMINATORS.map((x) => this.#member(x))), true);
          this.#i++;
          break;
        case '^':
          this.#emit(this.flavor === 'joni' ? '\\A' : '^', false);
          this.#i++;
          break;
        case '$':
          if (this.flavor === 'posix') throw new Refuse('uses "$" (end-of-input semantics not verified for POSIX ERE)');
          // Java-syntax engines let `$` match before a final line terminator; `\z` is the end of input only.
          this.#emit(this.flavor === 're2' || this.flavor === 'postgres' ? '$' : '\\z', false);
          this.#i++;
          break;
        case '|':
          if (this.#empty && this.flavor === 'posix') throw new Refuse('has an empty alternative');
          this.#out += '|';
          this.#atom = false;
          this.#empty = true;
          this.#i++;
          break;
        case '(':
          this.#group();
          break;
        case ')':
          if (this.#empty && this.flavor === 'posix') throw new Refuse('has an empty group or alternative');
          this.#out += ')';
          this.#atom = true;
          this.#empty = false;
          this.#i++;
          break;
        case '[':
          this.#charClass();
          break;
        case '*':
        case '+':
        case '?':
          this.#quantifier(c, 1);
          break;
        case '{': {
          const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(s.slice(this.#i));
          if (m === null) throw new Refuse('has a "{" that is not a quantifier');
          const lo = Number(m[1]);
          const hi = m[3] === undefined || m[3] === '' ? lo : Number(m[3]);
          if (lo > 1000 || hi > 1000) throw new Refuse('has a counted repeat above 1000');
          if ((lo > 255 || hi > 255) && this.flavor === 'postgres') throw new Refuse('has a counted repeat above 255 (PostgreSQL\'s limit)');
          this.#quantifier(m[0], m[0].length);
          break;
        }
        case '}':
        case ']':
          this.#literal(code);
          this.#i++;
          break;
        default:
          this.#literal(code);
          this.#i++;
      }
    }
    if (this.#empty && this.flavor === 'posix') throw new Refuse('has an empty alternative');
    return this.#out;
  }

  #emit(text: string, atom: boolean): void {
    this.#out += text;
    this.#atom = atom;
    this.#empty = false;
  }

  #quantifier(text: string, length: number): void {
    if (!this.#atom) throw new Refuse('quantifies something that is not a character, class or group');
    this.#i += length;
    let q = text;
    if (this.src[this.#i] === '?') {
      this.#i++;
      // Laziness never changes whether a search finds a match; POSIX ERE has no lazy quantifiers.
      if (this.flavor !== 'posix') q += '?';
    }
    this.#out += q;
    this.#atom = false;
  }

  #group(): void {
    const s = this.src;
    if (s.startsWith('(?:', this.#i)) {
      this.#out += this.flavor === 'posix' ? '(' : '(?:';
      this.#i += 3;
    } else if (s[this.#i + 1] === '?') {
      throw new Refuse('uses lookaround or a named group');
    } else {
      this.#out += '(';
      this.#i += 1;
    }
    this.#atom = false;
    this.#empty = true;
  }

  /** A literal code point outside a class. */
  #literal(code: number): void {
    const ch = String.fromCharCode(code);
    if (code < 0x20 || code === 0x7f) {
      if (this.flavor === 'posix') throw new Refuse('has a control character');
      this.#emit(this.#hex(code), true);
    } else if (META.has(ch)) this.#emit(`\\${ch}`, true);
    else if (code >= 0x80 && this.flavor !== 'posix') this.#emit(this.#hex(code), true);
    else if (code >= 0x80 && code <= 0x9f) throw new Refuse('has a control character');
    else this.#emit(ch, true);
  }

  #hex(code: number): string {
    // PostgreSQL reads `\x` greedily (any number of hex digits); `\uHHHH` takes exactly four.
    if (this.flavor === 'postgres') return `\\u${code.toString(16).padStart(4, '0')}`;
    return this.flavor === 're2' ? `\\x{${code.toString(16).toUpperCase()}}` : code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }

  /** One class member (a code point) in this flavor's class syntax. */
  #member(code: number): string {
    const ch = String.fromCharCode(code);
    if (/[A-Za-z0-9]/.test(ch)) return ch;
    // POSIX classes take non-ASCII letters as they are; elsewhere every other member is a hex escape.
    if (this.flavor === 'posix' && code >= 0xa0) return ch;
    return this.#hexInClass(code);
  }

  #hexInClass(code: number): string {
    if (this.flavor === 'posix') throw new Refuse('has punctuation or a control character inside a class');
    return this.#hex(code);
  }

  #class(negated: boolean, members: readonly string[]): string {
    return `[${negated ? '^' : ''}${members.join('')}]`;
  }

  #escape(): void {
    const s = this.src;
    const e = s[this.#i + 1];
    if (e === undefined) throw new Refuse('ends with a backslash');
    this.#i += 2;
    switch (e) {
      case 'd': case 'D': case 'w': case 'W':
        if (this.flavor === 'posix') throw new Refuse(`uses \\${e}`);
        // PostgreSQL's class escapes follow the locale: spelled out as ASCII sets.
        this.#emit(this.flavor === 'postgres' ? this.#class(e === 'D' || e === 'W', [ASCII_SETS[e.toLowerCase()]]) : `\\${e}`, true);
        return;
      case 's': case 'S': {
        if (this.flavor !== 're2' && this.flavor !== 'java' && this.flavor !== 'postgres') throw new Refuse(`uses \\${e}`);
        this.#emit(this.#class(e === 'S', this.#wsMembers()), true);
        return;
      }
      case 'b': case 'B':
        if (this.flavor !== 're2') throw new Refuse(`uses \\${e} (word boundaries differ in this engine)`);
        this.#emit(`\\${e}`, false);
        return;
      case 't': this.#literal(9); return;
      case 'n': this.#literal(10); return;
      case 'v': this.#literal(11); return;
      case 'f': this.#literal(12); return;
      case 'r': this.#literal(13); return;
      case 'u': case 'x': {
        const code = this.#hexEscape(e);
        this.#literal(code);
        return;
      }
      default:
        if (/[A-Za-z0-9]/.test(e)) throw new Refuse(`uses \\${e}`);
        if (e.charCodeAt(0) >= 0xd800 && e.charCodeAt(0) <= 0xdfff) throw new Refuse('has a character outside the Basic Multilingual Plane');
        this.#literal(e.charCodeAt(0));
    }
  }

  /** `\uHHHH` / `\xHH` after the letter; refuses the Annex-B identity forms. */
  #hexEscape(letter: string): number {
    const n = letter === 'u' ? 4 : 2;
    const h = this.src.slice(this.#i, this.#i + n);
    if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(h)) throw new Refuse(`uses \\${letter} without ${n} hex digits`);
    this.#i += n;
    const code = parseInt(h, 16);
    if (code >= 0xd800 && code <= 0xdfff) throw new Refuse('escapes a surrogate code unit');
    if (code === 0) throw new Refuse('matches NUL');
    return code;
  }

  #wsMembers(): string[] {
    return WS_CODES.map((x) => (typeof x === 'number' ? this.#wsMember(x) : `${this.#wsMember(x[0])}-${this.#wsMember(x[1])}`));
  }

  #wsMember(code: number): string {
    return code === 0x20 ? ' ' : this.#hex(code);
  }

  #charClass(): void {
    const s = this.src;
    if (s.startsWith('[]', this.#i) || s.startsWith('[^]', this.#i)) throw new Refuse('uses [] or [^]');
    this.#i++;
    let negated = false;
    if (s[this.#i] === '^') {
      negated = true;
      this.#i++;
    }
    const members: string[] = [];
    type Item = { kind: 'char'; code: number } | { kind: 'set'; text: string };
    const items: Item[] = [];
    while (true) {
      if (this.#i >= s.length) throw new Refuse('has an unterminated class');
      const c = s[this.#i];
      if (c === ']') {
        this.#i++;
        break;
      }
      const code = c.charCodeAt(0);
      if (code >= 0xd800 && code <= 0xdfff) throw new Refuse('has a character outside the Basic Multilingual Plane in a class');
      if (c === '\\') {
        const e = s[this.#i + 1];
        if (e === undefined) throw new Refuse('ends with a backslash');
        this.#i += 2;
        switch (e) {
          case 'd': case 'D': case 'w': case 'W':
            if (this.flavor === 'posix' || (this.flavor === 'postgres' && (e === 'D' || e === 'W'))) throw new Refuse(`uses \\${e} in a class`);
            items.push({ kind: 'set', text: this.flavor === 'postgres' ? ASCII_SETS[e] : `\\${e}` });
            continue;
          case 's':
            if (this.flavor !== 're2' && this.flavor !== 'java' && this.flavor !== 'postgres') throw new Refuse('uses \\s in a class');
            items.push({ kind: 'set', text: this.#wsMembers().join('') });
            continue;
          case 'b': items.push({ kind: 'char', code: 8 }); continue;
          case 't': items.push({ kind: 'char', code: 9 }); continue;
          case 'n': items.push({ kind: 'char', code: 10 }); continue;
          case 'v': items.push({ kind: 'char', code: 11 }); continue;
          case 'f': items.push({ kind: 'char', code: 12 }); continue;
          case 'r': items.push({ kind: 'char', code: 13 }); continue;
          case 'u': case 'x': items.push({ kind: 'char', code: this.#hexEscape(e) }); continue;
          default:
            if (/[A-Za-z0-9]/.test(e)) throw new Refuse(`uses \\${e} in a class`);
            if (e.charCodeAt(0) >= 0xd800 && e.charCodeAt(0) <= 0xdfff) throw new Refuse('has a character outside the Basic Multilingual Plane in a class');
            items.push({ kind: 'char', code: e.charCodeAt(0) });
            continue;
        }
      }
      if (c === '-' && items.length > 0 && s[this.#i + 1] !== ']') {
        // A range: the previous item and the next one must both be characters.
        const prev = items[items.length - 1];
        this.#i++;
        let next: number;
        const n = s[this.#i];
        if (n === '\\') {
          const e = s[this.#i + 1];
          const simple: Record<string, number> = { b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 };
          if (e === 'u' || e === 'x') {
            this.#i += 2;
            next = this.#hexEscape(e);
          } else if (e !== undefined && e in simple) {
            next = simple[e];
            this.#i += 2;
          } else if (e !== undefined && !/[A-Za-z0-9]/.test(e) && !(e.charCodeAt(0) >= 0xd800 && e.charCodeAt(0) <= 0xdfff)) {
            next = e.charCodeAt(0);
            this.#i += 2;
          } else throw new Refuse('has a range with a class escape');
        } else {
          next = n.charCodeAt(0);
          if (next >= 0xd800 && next <= 0xdfff) throw new Refuse('has a character outside the Basic Multilingual Plane in a class');
          this.#i++;
        }
        if (prev.kind !== 'char') throw new Refuse('has a range with a class escape');
        items.pop();
        if (prev.code > next) throw new Refuse('has an out-of-order range');
        items.push({ kind: 'set', text: `${this.#member(prev.code)}-${this.#member(next)}` });
        continue;
      }
      items.push({ kind: 'char', code });
      this.#i++;
    }
    if (items.length === 0) throw new Refuse('uses an empty class');
    for (const item of items) {
      if (item.kind === 'set') members.push(item.text);
      else if (item.code === 0) throw new Refuse('matches NUL');
      else members.push(this.#member(item.code));
    }
    this.#emit(this.#class(negated, members), true);
  }
}
