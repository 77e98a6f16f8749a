// The bulk-assignment benchmarks' cohort (bench/assign.mjs, bench/parquet.mjs): the same subjects as makeSubjects() in
// bench/fixtures.ts (subjectKey, email, country, age).
import { createWriteStream } from 'node:fs';

const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE', 'BR', 'IN', 'JP'];
const DOMAINS = ['example.com', 'example.com', 'mail.test', 'corp.test', 'example.org'];

/** The subjects in order as [subjectKey, email, country, age], seeded by `rng(42)` (bench/fixtures.ts's rng). */
export function* cohort(rng, rows) {
  const r = rng(42);
  for (let i = 0; i < rows; i++) {
    const tag = Math.floor(r() * 2 ** 40).toString(36).padStart(8, '0').slice(-8);
    const domain = DOMAINS[Math.floor(r() * DOMAINS.length)];
    const email = `${r() < 0.5 ? 'jane.doe' : 'dev'}${i % 1000}@${domain}`;
    yield [`u${tag}${i.toString(36)}`, email, COUNTRIES[Math.floor(r() * COUNTRIES.length)], 10 + Math.floor(r() * 60)];
  }
}

/** Writes the cohort as a CSV file with a header. */
export async function writeCohortCsv(rng, rows, path) {
  const out = createWriteStream(path);
  out.write('subjectKey,email,country,age\n');
  let buf = '';
  for (const [key, email, country, age] of cohort(rng, rows)) {
    buf += `${key},${email},${country},${age}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((res) => out.once('drain', res));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise((res) => out.end(res));
}
