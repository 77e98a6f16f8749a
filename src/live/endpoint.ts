/**
 * Where the config is fetched from (eppo-spec §5.1): an explicit `baseUrl`, else the subdomain that an SDK key
 * of the form `<token>.<base64("cs=<sub>&eh=<host>")>` names under fscdn.eppo.cloud, else the default CDN.
 * @module
 */
import { decodeBase64 } from '../config/encoding.ts';

/** Eppo's default config base URL. */
export const DEFAULT_BASE_URL = 'https://fscdn.eppo.cloud/api';
const CDN_SUFFIX = '.fscdn.eppo.cloud';
const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The base URL for an SDK key.
 * @param apiKey the SDK key.
 * @param baseUrl an explicit base (wins when given and different from the default; `https://` added if no scheme).
 * @returns a base URL without trailing slash.
 * @throws {TypeError} when `baseUrl` is not a URL.
 */
export function configBaseUrl(apiKey: string, baseUrl?: string): string {
  if (baseUrl && baseUrl !== DEFAULT_BASE_URL) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(baseUrl) ? baseUrl : `https://${baseUrl}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new TypeError('baseUrl is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`baseUrl must be http(s), got ${url.protocol}`);
    return url.href.replace(/\/+$/, '');
  }
  const subdomain = keySubdomain(apiKey);
  return subdomain ? `https://${subdomain}${CDN_SUFFIX}/api` : DEFAULT_BASE_URL;
}

/** The `cs=` subdomain encoded in an SDK key, if it is a valid DNS label; otherwise null. */
export function keySubdomain(apiKey: string): string | null {
  const dot = apiKey.indexOf('.');
  if (dot < 0) return null;
  let payload: string;
  try {
    payload = decodeBase64(apiKey.slice(dot + 1));
  } catch {
    return null;
  }
  const cs = new URLSearchParams(payload).get('cs');
  // The host is built from the key, so only a plain DNS label may go in front of the CDN domain.
  return cs !== null && SUBDOMAIN.test(cs) ? cs : null;
}

/** The config (or bandit parameters) URL with Eppo's query parameters (apiKey, sdkName, sdkVersion, in that order). */
export function configUrl(base: string, apiKey: string, sdkName: string, sdkVersion: string, resource: 'config' | 'bandits' = 'config'): string {
  return `${base}/flag-config/v1/${resource}?${new URLSearchParams({ apiKey, sdkName, sdkVersion })}`;
}
