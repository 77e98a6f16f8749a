// Serves a gzip bomb (1 GiB of zeros, about 10 MiB gzipped) to every request on 127.0.0.1, from a process of its own so
// that the client's peak memory is measured alone (response-cap.test.ts). Prints "port N wire BYTES" once listening, then
// "request" for each request.
import { createServer } from 'node:http';
import { constants, createGzip } from 'node:zlib';

const MiB = 1024 * 1024;

/** gzip of `bytes` zero bytes, compressed in a stream (never holding the plain bytes). */
async function gzipZeros(bytes: number): Promise<Uint8Array> {
  const gz = createGzip({ level: constants.Z_BEST_SPEED });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const chunk = Buffer.alloc(MiB);
  for (let sent = 0; sent < bytes; sent += MiB) {
    if (!gz.write(chunk)) await new Promise((resolve) => gz.once('drain', resolve));
  }
  gz.end();
  await done;
  return Buffer.concat(out);
}

const bomb = await gzipZeros(Number(process.argv[2] ?? 1024 * MiB));
const server = createServer((_req, res) => {
  console.log('request');
  res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.byteLength) });
  res.end(bomb);
});
server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as { port: number }).port} wire ${bomb.byteLength}`));
