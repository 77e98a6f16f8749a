// Small memory helpers shared by the kernel's modules. The "loose" ones work in whole words and may touch up to
// 15 bytes past the requested range (callers own that slack): short runs are cheaper this way than through
// memory.copy / memory.fill calls.

/** The i-th u32 word of the array at base. */
// @ts-ignore: decorator
@inline export function word(base: usize, i: u32): u32 {
  return load<u32>(base + (<usize>i << 2));
}

/** Copies n bytes src → dst; may read and write up to 15 bytes past n. */
// @ts-ignore: decorator
@inline export function copyLoose(dst: usize, src: usize, n: usize): void {
  if (ASC_FEATURE_SIMD) {
    for (let o: usize = 0; o < n; o += 16) v128.store(dst + o, v128.load(src + o));
  } else {
    for (let o: usize = 0; o < n; o += 8) store<u64>(dst + o, load<u64>(src + o));
  }
}

/** Zeroes [p, end); may write up to 15 bytes past end. */
// @ts-ignore: decorator
@inline export function zeroLoose(p: usize, end: usize): void {
  if (ASC_FEATURE_SIMD) {
    for (; p < end; p += 16) v128.store(p, i32x4.splat(0));
  } else {
    for (; p < end; p += 8) store<u64>(p, 0);
  }
}
