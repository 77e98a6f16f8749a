/**
 * Eppo's module-level functions of `@eppo/node-server-sdk` 4.x beside `init`/`getInstance`: `offlineInit` (which
 * also makes its client the instance `getInstance()` returns), `getFlagsConfiguration()` and
 * `getBanditsConfiguration()` (the instance's configurations as JSON text, to bootstrap another instance).
 * @module
 */
import { type OfflineInitOptions, type SaltshardClient, offlineInit as offlineClient } from './client.ts';
import { getInstance, setInstance } from './live/init.ts';

/**
 * Make a client from a configuration in hand, with no network access, and make it the instance `getInstance()`
 * returns (as Eppo's node SDK 4.x).
 * @throws {SyntaxError | ConfigError} when the configuration is unusable, unless `throwOnFailedInitialization: false`.
 * @example
 * const client = offlineInit({ flagsConfiguration: readFileSync('flags.json', 'utf8') });
 */
export function offlineInit(options: OfflineInitOptions): SaltshardClient {
  const client = offlineClient(options);
  setInstance(client);
  return client;
}

/** The instance's flags configuration as UFC JSON text (for another instance's `offlineInit`), or null before `init`. */
export function getFlagsConfiguration(): string | null {
  return current()?.getFlagsConfiguration() ?? null;
}

/** The instance's bandit models as JSON text `{ updatedAt, bandits }` (Eppo's shape; no models: `bandits` is `{}`). */
export function getBanditsConfiguration(): string {
  const text = current()?.getBanditsConfiguration() ?? null;
  const bandits = text === null ? {} : ((JSON.parse(text) as { bandits?: unknown }).bandits ?? {});
  return JSON.stringify({ updatedAt: new Date().toISOString(), bandits });
}

function current(): SaltshardClient | null {
  try {
    return getInstance();
  } catch {
    return null;
  }
}
