/**
 * Replacing a client's configuration: what the next snapshot is (a broken flag keeps its last good version)
 * and which flags changed.
 * @module
 */
import type { BrokenFlag, CompiledConfig, CompiledFlag } from '../config/compile.ts';
import { brokenFlags, compileConfig } from '../config/compile.ts';

/** The snapshot to put in force for `config` (compiled, or anything `compileConfig` accepts) after `previous`. */
export function nextConfiguration(config: unknown, previous: CompiledConfig | null): CompiledConfig {
  return keepLastGoodFlags(isCompiled(config) ? config : compileConfig(config), previous);
}

/**
 * A flag that arrives broken while the config in force has a good version of it keeps the good version
 * (reliability-plan §0.7: one bad flag must not wipe its last good state); every other flag is replaced.
 */
function keepLastGoodFlags(next: CompiledConfig, previous: CompiledConfig | null): CompiledConfig {
  let flags: Map<string, CompiledFlag | BrokenFlag> | null = null;
  // A first config has nothing to keep: its lazily parsed flags are checked on first use (compile.ts FlagTable).
  const broken = brokenFlags(next.flags, previous !== null);
  const warnings = [...next.warnings];
  for (const flag of broken) {
    const key = flag.key;
    const old = previous?.flags.get(key);
    if (old?.kind === 'flag' && previous?.obfuscated === next.obfuscated) {
      flags ??= new Map(next.flags);
      flags.set(key, old);
      warnings.push(`${flag.error}; keeping the previous version of this flag`);
    } else {
      warnings.push(`${flag.error}; the flag serves defaults`);
    }
  }
  return Object.freeze({ ...next, flags: flags ?? next.flags, warnings });
}

/** Keys of flags added, removed or redefined between two configs. */
export function changedFlags(previous: CompiledConfig | null, next: CompiledConfig): string[] {
  const before = previous?.wire.flags ?? {};
  const after = next.wire.flags;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

function isCompiled(value: unknown): value is CompiledConfig {
  return typeof value === 'object' && value !== null && 'flags' in value && (value as CompiledConfig).flags instanceof Map && 'fetchedAt' in value;
}
