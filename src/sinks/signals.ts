/**
 * One SIGTERM/SIGINT listener for all open sinks: each closes (flushing within its deadline), then the signal is
 * raised again so the process ends as it would have without us — unless the application has listeners of its own,
 * in which case ending the process is left to them.
 * @module
 */

type Closer = () => Promise<unknown>;

const closers = new Set<Closer>();
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
let installed = false;
let handling = false;

interface SignalProcess {
  pid: number;
  on(signal: string, listener: (signal: string) => void): void;
  off(signal: string, listener: (signal: string) => void): void;
  listenerCount(signal: string): number;
  kill(pid: number, signal: string): void;
}

function proc(): SignalProcess | null {
  const p = (globalThis as { process?: Partial<SignalProcess> }).process;
  return p !== undefined && typeof p.on === 'function' && typeof p.kill === 'function' ? (p as SignalProcess) : null;
}

async function onSignal(signal: string): Promise<void> {
  if (handling) return;
  handling = true;
  await Promise.allSettled([...closers].map((close) => close()));
  const p = proc()!;
  for (const s of SIGNALS) p.off(s, onSignal);
  installed = false;
  handling = false;
  if (p.listenerCount(signal) === 0) p.kill(p.pid, signal);
}

/**
 * Run `close` on SIGTERM or SIGINT (where the runtime has signals).
 * @returns a function that unregisters it.
 */
export function onTermination(close: Closer): () => void {
  const p = proc();
  if (p === null) return () => {};
  closers.add(close);
  if (!installed) {
    try {
      for (const s of SIGNALS) p.on(s, onSignal);
      installed = true;
    } catch {
      // A runtime without signal support (an edge worker): close() stays the way to flush.
    }
  }
  return () => {
    closers.delete(close);
    if (closers.size === 0 && installed && !handling) {
      for (const s of SIGNALS) p.off(s, onSignal);
      installed = false;
    }
  };
}
