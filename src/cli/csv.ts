/**
 * A small RFC 4180 CSV reader and writer for the CLI (no dependency): comma-separated, fields optionally quoted
 * with `"`, `""` for a quote inside a quoted field, quoted fields may hold commas and line breaks; LF or CRLF
 * record ends; blank (or whitespace-only) lines are skipped.
 * @module
 */

/**
 * Called for each record: its fields, or an error; `line` is the 1-based line the record starts on; `raw()` is
 * the record's text, `start` its offset in the text (a record without quotes: field k starts after the k − 1
 * fields before it and their commas). The fields array is reused for the next record: copy it to keep it.
 */
export type CsvSink = (fields: string[] | null, line: number, raw: () => string, error: string | null, start: number) => void;

/**
 * Parse CSV text (whole records only, except that the text may end without a line break).
 * @returns the number of lines consumed.
 */
export function parseCsv(text: string, emit: CsvSink): number {
  const n = text.length;
  let pos = 0;
  let line = 1;
  // The next quote at or after pos (n + 1 when none), searched again only once passed.
  let q = -1;
  const fields: string[] = [];
  let rawStart = 0;
  let rawEnd = 0;
  const raw = (): string => text.slice(rawStart, rawEnd);
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = n;
    if (q < pos) {
      q = text.indexOf('"', pos);
      if (q === -1) q = n + 1;
    }
    if (q > nl) {
      // Fast path: no quote on this line; fields are cut straight out of the text.
      const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const startLine = line;
      const start = pos;
      pos = nl + 1;
      line++;
      if (isBlank(text, start, end)) continue;
      // Overwrite in place (truncating only when the record is shorter): no shrink and regrow per record.
      let k = 0;
      let from = start;
      for (;;) {
        const comma = text.indexOf(',', from);
        if (comma === -1 || comma >= end) break;
        fields[k++] = text.slice(from, comma);
        from = comma + 1;
      }
      fields[k++] = text.slice(from, end);
      if (fields.length !== k) fields.length = k;
      rawStart = start;
      rawEnd = end;
      emit(fields, startLine, raw, null, start);
      continue;
    }
    const r = parseQuotedRecord(text, pos);
    const startLine = line;
    line += r.newlines + 1;
    rawStart = pos;
    rawEnd = r.end > pos && text.charCodeAt(r.end - 1) === 10 ? (r.end - 1 > pos && text.charCodeAt(r.end - 2) === 13 ? r.end - 2 : r.end - 1) : r.end;
    emit(r.error === null ? r.fields : null, startLine, raw, r.error, rawStart);
    pos = r.end;
  }
  return line - 1;
}

/** True when text[start, end) is empty or only spaces, tabs and CRs. */
function isBlank(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Parse one record that contains a quote, starting at `pos`; `end` is past its line break. */
function parseQuotedRecord(text: string, pos: number): { fields: string[]; end: number; newlines: number; error: string | null } {
  const n = text.length;
  const fields: string[] = [];
  let i = pos;
  let newlines = 0;
  for (;;) {
    // At the start of a field.
    if (i < n && text.charCodeAt(i) === 34) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = text.indexOf('"', j);
        if (close === -1) {
          const rest = text.slice(j);
          for (let k = 0; k < rest.length; k++) if (rest.charCodeAt(k) === 10) newlines++;
          return { fields, end: n, newlines: Math.max(0, newlines - (text.charCodeAt(n - 1) === 10 ? 1 : 0)), error: 'unterminated quoted field' };
        }
        const part = text.slice(j, close);
        for (let k = 0; k < part.length; k++) if (part.charCodeAt(k) === 10) newlines++;
        value += part;
        if (text.charCodeAt(close + 1) === 34) {
          value += '"';
          j = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      fields.push(value);
      const c = i < n ? text.charCodeAt(i) : 10;
      if (c === 44) {
        i++;
        continue;
      }
      if (c === 13 && (i + 1 >= n || text.charCodeAt(i + 1) === 10)) return { fields, end: Math.min(n, i + 2), newlines, error: null };
      if (c === 10) return { fields, end: Math.min(n, i + 1), newlines, error: null };
      // Garbage after a closing quote: skip the rest of the line.
      let nl = text.indexOf('\n', i);
      if (nl === -1) nl = n - 1;
      return { fields, end: nl + 1, newlines, error: `unexpected character after a closing quote (column ${fields.length})` };
    }
    // An unquoted field: up to the next comma or line break (a stray quote inside is kept as text).
    let k = i;
    while (k < n) {
      const c = text.charCodeAt(k);
      if (c === 44 || c === 10) break;
      k++;
    }
    const end = k < n && text.charCodeAt(k) === 10 && k > i && text.charCodeAt(k - 1) === 13 ? k - 1 : k;
    fields.push(text.slice(i, end));
    if (k < n && text.charCodeAt(k) === 44) {
      i = k + 1;
      continue;
    }
    return { fields, end: Math.min(n, k + 1), newlines, error: null };
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field, quoted when it holds a comma, quote or line break. */
export function csvField(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Cuts a byte stream into chunks of whole records (NDJSON lines, or CSV records whose quoted fields may hold line
 * breaks) in time and memory linear in the input, however long a record is: each piece is scanned once as it
 * arrives, keeping the quote state and the last record end seen, and each byte is copied once into the chunk it
 * leaves in. (Re-joining and re-scanning the pending bytes per piece was quadratic in a record's length.)
 * Quote-aware like {@link parseCsv}: a `"` toggles "inside quotes", so `""` inside a quoted field is neutral.
 */
export class RecordChunker {
  /** Bytes scanned plus bytes copied so far: at most twice the input's length (a test holds it to that). */
  work = 0;
  readonly #csv: boolean;
  readonly #minBytes: number;
  #pieces: Uint8Array[] = [];
  #size = 0;
  #inQuotes = false;
  /** Offset in the pending bytes just past the last record end seen, or 0. */
  #boundary = 0;

  /** @param minBytes a chunk is cut once at least this many bytes are pending and a record ends among them. */
  constructor(csv: boolean, minBytes: number) {
    this.#csv = csv;
    this.#minBytes = minBytes;
  }

  /** Bytes received that no chunk holds yet. */
  get pending(): number {
    return this.#size;
  }

  /** Add a piece of input; returns a chunk of whole records when one is due, else null. */
  push(piece: Uint8Array): Uint8Array | null {
    if (piece.length === 0) return null;
    const end = this.#scan(piece);
    if (end !== -1) this.#boundary = this.#size + end;
    this.#pieces.push(piece);
    this.#size += piece.length;
    if (this.#size < this.#minBytes || this.#boundary === 0) return null;
    return this.#take(this.#boundary);
  }

  /** The bytes left at the end of the input (a last record without a line break), or null. */
  finish(): Uint8Array | null {
    return this.#size > 0 ? this.#take(this.#size) : null;
  }

  /** The index just past the last record-ending LF in `piece` (given the quote state before it, which it updates), or -1. */
  #scan(piece: Uint8Array): number {
    this.work += piece.length;
    if (!this.#csv) {
      const nl = piece.lastIndexOf(10);
      return nl === -1 ? -1 : nl + 1;
    }
    const n = piece.length;
    let best = -1;
    let pos = 0;
    while (pos < n) {
      if (this.#inQuotes) {
        const close = piece.indexOf(34, pos);
        if (close === -1) break;
        this.#inQuotes = false;
        pos = close + 1;
        continue;
      }
      const q = piece.indexOf(34, pos);
      const segEnd = q === -1 ? n : q;
      const nl = piece.subarray(pos, segEnd).lastIndexOf(10);
      if (nl !== -1) best = pos + nl + 1;
      if (q === -1) break;
      this.#inQuotes = true;
      pos = q + 1;
    }
    return best;
  }

  /** The first `end` pending bytes as one new buffer (transferable to a worker); the rest stays pending. */
  #take(end: number): Uint8Array {
    const out = new Uint8Array(end);
    this.work += end;
    let at = 0;
    const pieces = this.#pieces;
    let i = 0;
    for (; i < pieces.length && at < end; i++) {
      const p = pieces[i];
      const n = Math.min(p.length, end - at);
      out.set(n === p.length ? p : p.subarray(0, n), at);
      at += n;
      if (n < p.length) {
        pieces[i] = p.subarray(n);
        break;
      }
    }
    this.#pieces = pieces.slice(i);
    this.#size -= end;
    // The quote state carries over: a record end is outside quotes, so the rest was scanned from the right state.
    this.#boundary = 0;
    return out;
  }
}
