/**
 * The package's root module on Cloudflare Workers (the `workerd` export condition, used by wrangler and
 * workerd): Workers refuse to compile WebAssembly from bytes at run time, so the two kernel builds are imported as
 * `.wasm` modules (compiled by the platform) and handed to the kernel; everything else is the root module.
 * @module
 */
// @ts-ignore: in Workers (and bundlers targeting them) a .wasm import is a compiled WebAssembly.Module.
import scalar from './wasm/release.wasm';
// @ts-ignore: as above.
import simd from './wasm/simd.wasm';
import { provideWasmModules } from './wasm/kernel.ts';

provideWasmModules({ scalar: scalar as WebAssembly.Module, simd: simd as WebAssembly.Module });

export * from './mod.ts';
