// Entry point of the `saltshard` command (Node runs the compiled dist/src/bin.js; Bun and Deno run this file).
import process from 'node:process';
import { main } from './cli.ts';

// A reader that stops early (`saltshard assign … | head -1`) closes the pipe: end quietly with status 0, as
// commands killed by SIGPIPE do, instead of reporting a write error.
const brokenPipe = (err: { code?: string } | null) => err?.code === 'EPIPE' || err?.code === 'ERR_STREAM_DESTROYED';
process.stdout.on('error', (err: Error & { code?: string }) => {
  if (brokenPipe(err)) process.exit(0);
  throw err;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (!brokenPipe(err as { code?: string })) throw err;
  process.exit(0);
}
