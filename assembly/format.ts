// Output assembly for bulk jobs: line (i, j) = prefix ++ key text of subject i ++ suffix of the outcome of cell
// (i, j), for every subject i and flag j, in order (or, per subject, prefix ++ key ++ the suffixes of its cells:
// one line per subject). The CLI writes NDJSON and CSV this way: each distinct outcome's text is made once in JS;
// this loop only copies bytes.
//
// Header (u32 words at hdr):
//   0 n            1 nFlags        2 prefix ptr     3 prefix length
//   4 key arena    5 keyStart (u32 per subject, relative to the arena)      6 keyLen (u32 per subject)
//   7 cells        u16 per (subject, flag): the outcome's index within its flag
//   8 sfxBase      u32 per flag: index of the flag's first suffix in sfxStart / sfxLen
//   9 sfxStart     u32 per suffix, relative to the suffix arena             10 sfxLen
//  11 sfx arena    12 out     13 perSubject: 1 = prefix and key once per subject, before its first cell
// Every source may be read, and `out` written, up to 15 bytes past its end (callers keep that slack).
// Returns the number of bytes written.
import { copyLoose, word } from './mem';

/** Copies n bytes; short runs in whole words (may touch up to 15 bytes past both ends). */
// @ts-ignore: decorator
@inline function put(dst: usize, src: usize, n: usize): void {
  if (n > 64) memory.copy(dst, src, n);
  else copyLoose(dst, src, n);
}

export function formatCells(hdr: usize): u32 {
  const n = word(hdr, 0);
  const nFlags = word(hdr, 1);
  const prefix = <usize>word(hdr, 2);
  const prefixLen = <usize>word(hdr, 3);
  const keys = <usize>word(hdr, 4);
  const keyStart = <usize>word(hdr, 5);
  const keyLen = <usize>word(hdr, 6);
  const cells = <usize>word(hdr, 7);
  const sfxBase = <usize>word(hdr, 8);
  const sfxStart = <usize>word(hdr, 9);
  const sfxLen = <usize>word(hdr, 10);
  const sfx = <usize>word(hdr, 11);
  const out = <usize>word(hdr, 12);
  const perSubject = word(hdr, 13) != 0;
  let at = out;
  let cell = cells;
  for (let i: u32 = 0; i < n; i++) {
    const kp = keys + <usize>word(keyStart, i);
    const kl = <usize>word(keyLen, i);
    for (let j: u32 = 0; j < nFlags; j++) {
      if (j == 0 || !perSubject) {
        put(at, prefix, prefixLen);
        at += prefixLen;
        put(at, kp, kl);
        at += kl;
      }
      const e = word(sfxBase, j) + <u32>load<u16>(cell);
      cell += 2;
      const sl = <usize>word(sfxLen, e);
      put(at, sfx + <usize>word(sfxStart, e), sl);
      at += sl;
    }
  }
  return <u32>(at - out);
}
