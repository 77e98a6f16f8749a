/**
 * Worker thread of `saltshard assign`: receives the run spec once (workerData), then chunks; answers each with
 * its result (output bytes transferred, not copied). Each worker instantiates the embedded WASM kernel.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ChunkResult, InputError, Processor, type RunSpec, type Task } from './assign-core.ts';

const port = parentPort!;
let processor: Processor;
try {
  processor = new Processor(workerData as RunSpec);
} catch (err) {
  port.postMessage({ fatal: String((err as Error)?.stack ?? err) });
  throw err;
}
port.on('message', async (task: Task) => {
  let result: ChunkResult;
  try {
    result = await processor.process(task);
  } catch (err) {
    // Input the run cannot read (a damaged file) is the user's to fix, not a failure of the worker.
    if (err instanceof InputError) port.postMessage({ seq: task.seq, inputError: err.message });
    else port.postMessage({ seq: task.seq, fatal: String((err as Error)?.stack ?? err) });
    return;
  }
  const transfer = result.bytes ? [result.bytes.buffer] : result.columns ? result.columns.pages.map((p) => p.buffer) : [];
  port.postMessage(result, transfer as ArrayBuffer[]);
});
