// Entry point of the `saltshard` command (Node runs the compiled dist/src/bin.js; Bun and Deno run this file).
import process from 'node:process';
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
