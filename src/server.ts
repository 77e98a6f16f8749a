/**
 * The saltshard HTTP server from code: {@link createApp} builds the Hono app (OFREP, batch assignment, config
 * relay, health, metrics) with nothing runtime-specific, so its `fetch` serves as the default export of a
 * Deno Deploy, Bun or Cloudflare Workers module; {@link serve} listens on Bun, Deno or Node with graceful shutdown.
 * Needs the `hono` package (and `@hono/node-server` for {@link serve} on Node).
 * @module
 * @example
 * import { offlineInit } from 'saltshard';
 * import { createApp } from 'saltshard/server';
 * const client = offlineInit({ flagsConfiguration: await (await fetch(configUrl)).text() });
 * export default createApp({ client });
 */
export { createApp } from './server/app.ts';
export type { AppOptions, ServerApp } from './server/app.ts';
export { serve } from './server/serve.ts';
export type { RunningServer, ServeOptions } from './server/serve.ts';
export { Metrics } from './server/metrics.ts';
export type { GaugeSample } from './server/metrics.ts';
export type { ConfigFeed, FeedEntry, FeedOptions } from './server/push.ts';
