// AssemblyScript source of the library's SIMD convolution kernels for the wasm backend (compiled
// by `npm run build:simd` into conv-kernels-wasm.ts; never imported by TypeScript).
//
// Why kernels of our own: on tfjs-backend-wasm 4.22 the filter gradient had to be phrased as an
// XNNPACK forward conv whose "filter" is dy, which XNNPACK re-packs on every call (10-26 GFLOP/s),
// and XNNPACK's forward conv reaches 26-38 GFLOP/s at CIFAR ResNet sizes. These loops keep a
// register tile of 8 f32x4 accumulators (4 scalars x 8 channels) and reach 30-50 GFLOP/s on one
// core of this machine (128-bit SIMD, no FMA in wasm without relaxed-simd; see madd below).
//
// Layouts (all f32, NHWC, set up by the caller in src/kernels/simd-conv.ts):
//   xp  input, zero-padded to exactly the window: [N, HP, WP, CI], HP = (OH-1)*SH + FH
//   w   filter [FH, FW, CI, CO8]    (CO8 = output channels rounded up to 8, zero-filled)
//   y   output [N, OH, OW, CO8]
//   dyp output gradient [N, OH, OW, CO8]
//   dw  filter gradient [FH, FW, CI4, CO8] (CI4 = input channels rounded up to 4, xp padded alike)
//
// 3x3 stride-1 convs with 16+ input channels take the Winograd route F(2x2,3x3) (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", CVPR 2016), forward and filter gradient:
// 16 products per 2x2 output tile and channel pair instead of 36, so 2.25x fewer multiplications,
// paid for with input and output transforms. Measured per call at batch 128: 1.1x (16 channels)
// to 2.4x (128+) faster than the direct loop (50-93 GFLOP/s counted as direct-conv FLOPs), with
// errors of a few float32 ulps of the output's magnitude.

const HALF: f32 = 0.5;

/**
 * acc + a*b on four lanes. Built twice (build-conv-kernels.ts): with relaxed-simd enabled this is
 * f32x4.relaxed_madd, which V8 lowers to one fused multiply-add instruction on x86-64 with FMA (one
 * rounding instead of two, and one instruction instead of two in the register tile's inner loop);
 * without it, the portable mul then add. Used only in the accumulation loops, where the result may
 * differ from mul+add by the rounding of the product, which callers' float64 tests bound.
 */
@inline
function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** First free byte after the module's static data; the caller places its buffers above it. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Copies x [N,H,W,C] (at src) into xp [N,HP,WP,CP] (at dst) with x[n,h,w,c] at
 * [n, h+top, w+left, c] and zeros elsewhere; source rows/columns [r0,r1) x [c0,c1) are the ones
 * that land inside (a negative pad drops input the conv never reads). In wasm rather than in JS:
 * a JS loop spends ~1 us per typed-array call, 10 ms per call at [128,32,32,16].
 */
export function packPadded(
  src: usize, dst: usize, n: i32, h: i32, w: i32, c: i32, hp: i32, wp: i32, cp: i32,
  top: i32, left: i32, r0: i32, r1: i32, c0: i32, c1: i32,
): void {
  const rowBytes = <usize>(wp * cp) << 2;
  const imageBytes = <usize>hp * rowBytes;
  const pixelIn = <usize>c << 2;
  const pixelOut = <usize>cp << 2;
  const leftBytes = <usize>((left + c0) * cp) << 2;
  const copiedBytes = <usize>((c1 - c0) * cp) << 2;
  for (let b = 0; b < n; b++) {
    const image = dst + <usize>b * imageBytes;
    memory.fill(image, 0, <usize>(r0 + top) * rowBytes);
    const below = <usize>(r1 + top) * rowBytes;
    memory.fill(image + below, 0, imageBytes - below);
    for (let r = r0; r < r1; r++) {
      const row = image + <usize>(r + top) * rowBytes;
      const from = src + ((<usize>((b * h + r) * w + c0) * c) << 2);
      memory.fill(row, 0, leftBytes);
      if (cp == c) {
        memory.copy(row + leftBytes, from, copiedBytes);
      } else {
        memory.fill(row + leftBytes, 0, copiedBytes);
        for (let col = 0; col < c1 - c0; col++) {
          memory.copy(row + leftBytes + <usize>col * pixelOut, from + <usize>col * pixelIn, pixelIn);
        }
      }
      memory.fill(row + leftBytes + copiedBytes, 0, rowBytes - leftBytes - copiedBytes);
    }
  }
}

/**
 * y[n,oh,ow,co] = act(bias[co] + sum_{kh,kw,ci} xp[n, oh*sh+kh, ow*sw+kw, ci] * w[kh,kw,ci,co]).
 * bias = 0 means none; relu != 0 clamps at zero. Output (n, oh, ow) is stored at
 * y + n*yImage + oh*yRow + ow*yPixel (bytes): dense NHWC, or one phase of a strided layout (the
 * input gradient of a strided conv writes each of its s*s phases into every s-th pixel).
 *
 * The register tile is 4 output pixels x 8 channels, its 8 accumulators kept across all fh*fw*ci
 * products and started from the bias. Its 4 pixels are consecutive in the flattened (n, oh, ow)
 * order, each with its own window and output address, not 4 pixels of one row: along a row, the
 * 0-3 pixels left at its end would take a one-pixel loop with 2 accumulators, 3 of every 7 pixels
 * at 7x7 and 2 of 14 at 14x14, the outputs of the small encoder's stride-2 layers and the phases of
 * their input gradients. Pixels go in chunks of `chunk` (a multiple of 4) whose window and output
 * addresses are computed once into `offs` (2 x chunk u32), since per tile the integer divisions
 * cost as much as the products of a 1-16-channel layer; each 8-channel slice of the filter then
 * sweeps the chunk while it stays in L1.
 */
export function conv2d(
  xp: usize, w: usize, bias: usize, y: usize,
  n: i32, oh: i32, ow: i32, hp: i32, wp: i32, ci: i32, co8: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, relu: i32,
  yImage: usize, yRow: usize, yPixel: usize, chunk: i32, offs: usize,
): void {
  const wRow = <usize>co8 << 2;
  const tapRow = <usize>(wp * ci) << 2; // bytes between input rows
  const tapCol = <usize>ci << 2; // bytes between input columns
  const zero = f32x4.splat(0);
  const plane = oh * ow;
  const total = n * plane;
  for (let p0 = 0; p0 < total; p0 += chunk) {
    const p1 = min(total, p0 + chunk);
    // The chunk's window and output addresses, once for all its 8-channel slices.
    {
      let bb = p0 / plane;
      let q = p0 - bb * plane;
      let rr = q / ow;
      let xx = q - rr * ow;
      for (let p = p0; p < p1; p++) {
        const at = offs + (<usize>(p - p0) << 3);
        store<u32>(at, <u32>(xp + (<usize>((bb * hp + rr * sh) * wp + xx * sw) * ci << 2)));
        store<u32>(at, <u32>(y + <usize>bb * yImage + <usize>rr * yRow + <usize>xx * yPixel), 4);
        if (++xx == ow) {
          xx = 0;
          if (++rr == oh) {
            rr = 0;
            bb++;
          }
        }
      }
    }
    for (let c = 0; c < co8; c += 8) {
      let b0 = zero, b1 = zero;
      if (bias != 0) {
        b0 = v128.load(bias + (<usize>c << 2));
        b1 = v128.load(bias + (<usize>c << 2), 16);
      }
      const wc = w + (<usize>c << 2);
      let p = p0;
      for (; p + 4 <= p1; p += 4) {
        const i0 = <usize>load<u32>(offs + (<usize>(p - p0) << 3));
        const i1 = <usize>load<u32>(offs + (<usize>(p + 1 - p0) << 3));
        const i2 = <usize>load<u32>(offs + (<usize>(p + 2 - p0) << 3));
        const i3 = <usize>load<u32>(offs + (<usize>(p + 3 - p0) << 3));
        let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        let pw = wc;
        for (let kh = 0; kh < fh; kh++) {
          for (let kw = 0; kw < fw; kw++) {
            let o = <usize>kh * tapRow + <usize>kw * tapCol;
            const end = o + tapCol;
            for (; o < end; o += 4) {
              const w0 = v128.load(pw);
              const w1 = v128.load(pw, 16);
              const s0 = v128.load32_splat(i0 + o);
              a00 = madd(a00, s0, w0);
              a01 = madd(a01, s0, w1);
              const s1 = v128.load32_splat(i1 + o);
              a10 = madd(a10, s1, w0);
              a11 = madd(a11, s1, w1);
              const s2 = v128.load32_splat(i2 + o);
              a20 = madd(a20, s2, w0);
              a21 = madd(a21, s2, w1);
              const s3 = v128.load32_splat(i3 + o);
              a30 = madd(a30, s3, w0);
              a31 = madd(a31, s3, w1);
              pw += wRow;
            }
          }
        }
        if (relu != 0) {
          a00 = f32x4.max(a00, zero); a01 = f32x4.max(a01, zero);
          a10 = f32x4.max(a10, zero); a11 = f32x4.max(a11, zero);
          a20 = f32x4.max(a20, zero); a21 = f32x4.max(a21, zero);
          a30 = f32x4.max(a30, zero); a31 = f32x4.max(a31, zero);
        }
        const o0 = <usize>load<u32>(offs + (<usize>(p - p0) << 3), 4) + (<usize>c << 2);
        const o1 = <usize>load<u32>(offs + (<usize>(p + 1 - p0) << 3), 4) + (<usize>c << 2);
        const o2 = <usize>load<u32>(offs + (<usize>(p + 2 - p0) << 3), 4) + (<usize>c << 2);
        const o3 = <usize>load<u32>(offs + (<usize>(p + 3 - p0) << 3), 4) + (<usize>c << 2);
        v128.store(o0, a00); v128.store(o0, a01, 16);
        v128.store(o1, a10); v128.store(o1, a11, 16);
        v128.store(o2, a20); v128.store(o2, a21, 16);
        v128.store(o3, a30); v128.store(o3, a31, 16);
      }
      for (; p < p1; p++) {
        const i0 = <usize>load<u32>(offs + (<usize>(p - p0) << 3));
        let a0 = b0, a1 = b1;
        let pw = wc;
        for (let kh = 0; kh < fh; kh++) {
          for (let kw = 0; kw < fw; kw++) {
            let o = <usize>kh * tapRow + <usize>kw * tapCol;
            const end = o + tapCol;
            for (; o < end; o += 4) {
              const s = v128.load32_splat(i0 + o);
              a0 = madd(a0, s, v128.load(pw));
              a1 = madd(a1, s, v128.load(pw, 16));
              pw += wRow;
            }
          }
        }
        if (relu != 0) {
          a0 = f32x4.max(a0, zero);
          a1 = f32x4.max(a1, zero);
        }
        const o0 = <usize>load<u32>(offs + (<usize>(p - p0) << 3), 4) + (<usize>c << 2);
        v128.store(o0, a0);
        v128.store(o0, a1, 16);
      }
    }
  }
}

/** Stores a 4x8 tile: rows of 8 floats at out, out + row, out + 2*row, out + 3*row (bytes). */
@inline
function store4x8(
  out: usize, row: usize,
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128,
): void {
  v128.store(out, a00);
  v128.store(out, a01, 16);
  v128.store(out + row, a10);
  v128.store(out + row, a11, 16);
  v128.store(out + 2 * row, a20);
  v128.store(out + 2 * row, a21, 16);
  v128.store(out + 3 * row, a30);
  v128.store(out + 3 * row, a31, 16);
}

/**
 * The register tile of the Winograd GEMM and filter gradient (conv2dFilterGrad inlines it): acc[4][8] (4 rows of 8
 * floats at `out`, rows `outRow` bytes apart; starting from zero, or from what `out` holds when
 * `accumulate`) += sum over `count` steps of a[i*aLane] (i = 0..3, outer) b[0..7], `a` and `b`
 * advancing by `aStep` and `bStep` bytes per step. Eight f32x4 accumulators stay in registers.
 */
@inline
function tile4x8(
  out: usize, outRow: usize, a: usize, aLane: usize, aStep: usize, b: usize, bStep: usize, count: i32, accumulate: bool,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  if (accumulate) {
    a00 = v128.load(out); a01 = v128.load(out, 16);
    a10 = v128.load(out + outRow); a11 = v128.load(out + outRow, 16);
    a20 = v128.load(out + 2 * outRow); a21 = v128.load(out + 2 * outRow, 16);
    a30 = v128.load(out + 3 * outRow); a31 = v128.load(out + 3 * outRow, 16);
  }
  for (let j = 0; j < count; j++) {
    const d0 = v128.load(b);
    const d1 = v128.load(b, 16);
    const s0 = v128.load32_splat(a);
    a00 = madd(a00, s0, d0);
    a01 = madd(a01, s0, d1);
    const s1 = v128.load32_splat(a + aLane);
    a10 = madd(a10, s1, d0);
    a11 = madd(a11, s1, d1);
    const s2 = v128.load32_splat(a + 2 * aLane);
    a20 = madd(a20, s2, d0);
    a21 = madd(a21, s2, d1);
    const s3 = v128.load32_splat(a + 3 * aLane);
    a30 = madd(a30, s3, d0);
    a31 = madd(a31, s3, d1);
    a += aStep;
    b += bStep;
  }
  store4x8(out, outRow, a00, a01, a10, a11, a20, a21, a30, a31);
}

/**
 * dw[kh,kw,ci,co] = sum_{n,oh,ow} xp[n, oh*sh+kh, ow*sw+kw, ci] * dyp[n,oh,ow,co], overwriting dw.
 * The output rows (n, oh) are walked in chunks of `rowsPerChunk` so that the chunk's input rows
 * and gradient rows stay in cache while every (tap, 4-channel, 8-channel) block sweeps them, in
 * tile4x8's register tile kept across the whole chunk (per row, a 4x4 or 7x7 output gives only 4-7
 * products per load and store of the 8 accumulators; across the chunk, 64 or more).
 */
export function conv2dFilterGrad(
  xp: usize, dyp: usize, dw: usize,
  n: i32, oh: i32, ow: i32, hp: i32, wp: i32, ci4: i32, co8: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, rowsPerChunk: i32,
): void {
  memory.fill(dw, 0, <usize>(fh * fw * ci4 * co8) << 2);
  const rows = n * oh;
  const xStep = <usize>(sw * ci4) << 2;
  const dyStep = <usize>co8 << 2;
  const dwRow = <usize>co8 << 2;
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const r1 = min(rows, r0 + rowsPerChunk);
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        for (let i = 0; i < ci4; i += 4) {
          for (let c = 0; c < co8; c += 8) {
            const out = dw + ((<usize>((kh * fw + kw) * ci4 + i) * co8 + c) << 2);
            let a00 = v128.load(out), a01 = v128.load(out, 16);
            let a10 = v128.load(out + dwRow), a11 = v128.load(out + dwRow, 16);
            let a20 = v128.load(out + 2 * dwRow), a21 = v128.load(out + 2 * dwRow, 16);
            let a30 = v128.load(out + 3 * dwRow), a31 = v128.load(out + 3 * dwRow, 16);
            for (let r = r0; r < r1; r++) {
              const b = r / oh;
              const y = r - b * oh;
              let a = xp + ((<usize>((b * hp + y * sh + kh) * wp + kw) * ci4 + i) << 2);
              let d = dyp + ((<usize>r * ow * co8 + c) << 2);
              for (let j = 0; j < ow; j++) {
                const d0 = v128.load(d);
                const d1 = v128.load(d, 16);
                const s0 = v128.load32_splat(a);
                a00 = madd(a00, s0, d0);
                a01 = madd(a01, s0, d1);
                const s1 = v128.load32_splat(a, 4);
                a10 = madd(a10, s1, d0);
                a11 = madd(a11, s1, d1);
                const s2 = v128.load32_splat(a, 8);
                a20 = madd(a20, s2, d0);
                a21 = madd(a21, s2, d1);
                const s3 = v128.load32_splat(a, 12);
                a30 = madd(a30, s3, d0);
                a31 = madd(a31, s3, d1);
                a += xStep;
                d += dyStep;
              }
            }
            store4x8(out, dwRow, a00, a01, a10, a11, a20, a21, a30, a31);
          }
        }
      }
    }
  }
}

/**
 * The Winograd filter transform: u[xi][ci][co] = (G g G^T)[xi] for each 3x3 slice g = w[:,:,ci,co]
 * of w [3,3,CI,CO], G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]; u is [16, CI4, CO8],
 * zero in the padded channels. flipSwap != 0 reads w as the filter of the layer whose input
 * gradient this conv computes, [3,3,CO,CI]: g[r][c] = w[2-r][2-c][o][i] (flipped in both spatial
 * axes, channel axes swapped), so a stride-1 input gradient needs no reordered copy of its filter.
 */
export function winogradFilter(w: usize, u: usize, ci: i32, co: i32, ci4: i32, co8: i32, flipSwap: i32): void {
  memory.fill(u, 0, <usize>(16 * ci4 * co8) << 2);
  // Byte steps between taps (row-major, negative when flipped), input and output channels of w.
  const tapStep = flipSwap != 0 ? -(<isize>(ci * co) << 2) : <isize>(ci * co) << 2;
  const iStep = flipSwap != 0 ? <isize>4 : <isize>co << 2;
  const oStep = flipSwap != 0 ? <isize>ci << 2 : <isize>4;
  const first = flipSwap != 0 ? w + (<usize>(8 * ci * co) << 2) : w;
  for (let i = 0; i < ci; i++) {
    for (let o = 0; o < co; o++) {
      // g[r][c] = w[r][c][i][o], or w[2-r][2-c][o][i] when flipped and swapped
      const at = first + <usize>(<isize>i * iStep + <isize>o * oStep);
      const g00 = load<f32>(at);
      const g01 = load<f32>(at + <usize>(1 * tapStep));
      const g02 = load<f32>(at + <usize>(2 * tapStep));
      const g10 = load<f32>(at + <usize>(3 * tapStep));
      const g11 = load<f32>(at + <usize>(4 * tapStep));
      const g12 = load<f32>(at + <usize>(5 * tapStep));
      const g20 = load<f32>(at + <usize>(6 * tapStep));
      const g21 = load<f32>(at + <usize>(7 * tapStep));
      const g22 = load<f32>(at + <usize>(8 * tapStep));
      // T = G g  (4x3), rows
      const t00 = g00, t01 = g01, t02 = g02;
      const t10 = HALF * (g00 + g10 + g20), t11 = HALF * (g01 + g11 + g21), t12 = HALF * (g02 + g12 + g22);
      const t20 = HALF * (g00 - g10 + g20), t21 = HALF * (g01 - g11 + g21), t22 = HALF * (g02 - g12 + g22);
      const t30 = g20, t31 = g21, t32 = g22;
      // U = T G^T (4x4)
      const base = u + ((<usize>i * co8 + o) << 2);
      const stride = <usize>(ci4 * co8) << 2;
      store<f32>(base + 0 * stride, t00); store<f32>(base + 1 * stride, HALF * (t00 + t01 + t02));
      store<f32>(base + 2 * stride, HALF * (t00 - t01 + t02)); store<f32>(base + 3 * stride, t02);
      store<f32>(base + 4 * stride, t10); store<f32>(base + 5 * stride, HALF * (t10 + t11 + t12));
      store<f32>(base + 6 * stride, HALF * (t10 - t11 + t12)); store<f32>(base + 7 * stride, t12);
      store<f32>(base + 8 * stride, t20); store<f32>(base + 9 * stride, HALF * (t20 + t21 + t22));
      store<f32>(base + 10 * stride, HALF * (t20 - t21 + t22)); store<f32>(base + 11 * stride, t22);
      store<f32>(base + 12 * stride, t30); store<f32>(base + 13 * stride, HALF * (t30 + t31 + t32));
      store<f32>(base + 14 * stride, HALF * (t30 - t31 + t32)); store<f32>(base + 15 * stride, t32);
    }
  }
}

/**
 * The Winograd input transform of tiles [t0, t0+cnt) into v [16][block][CI4]: V = B^T d B for each
 * tile's 4x4 patch d, four channels per f32x4; tiles [cnt, cnt4) are zero-filled (the GEMMs work
 * on groups of 4 tiles).
 */
function winogradInput(
  xp: usize, vbuf: usize, t0: i32, cnt: i32, cnt4: i32, th: i32, tw: i32, hp: i32, wp: i32, ci4: i32, block: i32,
): void {
  const px = <usize>ci4 << 2; // bytes per input pixel
  const rowB = <usize>(wp * ci4) << 2; // bytes per input row
  const vXi = <usize>(block * ci4) << 2; // bytes per xi plane in V
  for (let j = 0; j < cnt4; j++) {
    if (j >= cnt) {
      for (let xi = 0; xi < 16; xi++) memory.fill(vbuf + <usize>xi * vXi + ((<usize>j * ci4) << 2), 0, px);
      continue;
    }
    const t = t0 + j;
    const b = t / (th * tw);
    const r = t - b * th * tw;
    const ty = r / tw, tx = r - (r / tw) * tw;
    const src = xp + <usize>((b * hp + 2 * ty) * wp + 2 * tx) * px;
    const dst = vbuf + ((<usize>j * ci4) << 2);
    for (let k: usize = 0; k < <usize>(ci4 << 2); k += 16) {
      const p0 = src + k, p1 = p0 + rowB, p2 = p1 + rowB, p3 = p2 + rowB;
      // rows: t_r = B^T d (combine rows), per column c
      const d00 = v128.load(p0), d01 = v128.load(p0 + px), d02 = v128.load(p0 + 2 * px), d03 = v128.load(p0 + 3 * px);
      const d10 = v128.load(p1), d11 = v128.load(p1 + px), d12 = v128.load(p1 + 2 * px), d13 = v128.load(p1 + 3 * px);
      const d20 = v128.load(p2), d21 = v128.load(p2 + px), d22 = v128.load(p2 + 2 * px), d23 = v128.load(p2 + 3 * px);
      const d30 = v128.load(p3), d31 = v128.load(p3 + px), d32 = v128.load(p3 + 2 * px), d33 = v128.load(p3 + 3 * px);
      const a00 = f32x4.sub(d00, d20), a01 = f32x4.sub(d01, d21), a02 = f32x4.sub(d02, d22), a03 = f32x4.sub(d03, d23);
      const a10 = f32x4.add(d10, d20), a11 = f32x4.add(d11, d21), a12 = f32x4.add(d12, d22), a13 = f32x4.add(d13, d23);
      const a20 = f32x4.sub(d20, d10), a21 = f32x4.sub(d21, d11), a22 = f32x4.sub(d22, d12), a23 = f32x4.sub(d23, d13);
      const a30 = f32x4.sub(d10, d30), a31 = f32x4.sub(d11, d31), a32 = f32x4.sub(d12, d32), a33 = f32x4.sub(d13, d33);
      const o = dst + k;
      v128.store(o + 0 * vXi, f32x4.sub(a00, a02)); v128.store(o + 1 * vXi, f32x4.add(a01, a02));
      v128.store(o + 2 * vXi, f32x4.sub(a02, a01)); v128.store(o + 3 * vXi, f32x4.sub(a01, a03));
      v128.store(o + 4 * vXi, f32x4.sub(a10, a12)); v128.store(o + 5 * vXi, f32x4.add(a11, a12));
      v128.store(o + 6 * vXi, f32x4.sub(a12, a11)); v128.store(o + 7 * vXi, f32x4.sub(a11, a13));
      v128.store(o + 8 * vXi, f32x4.sub(a20, a22)); v128.store(o + 9 * vXi, f32x4.add(a21, a22));
      v128.store(o + 10 * vXi, f32x4.sub(a22, a21)); v128.store(o + 11 * vXi, f32x4.sub(a21, a23));
      v128.store(o + 12 * vXi, f32x4.sub(a30, a32)); v128.store(o + 13 * vXi, f32x4.add(a31, a32));
      v128.store(o + 14 * vXi, f32x4.sub(a32, a31)); v128.store(o + 15 * vXi, f32x4.sub(a31, a33));
    }
  }
}

/**
 * The Winograd GEMMs of both forward forms: for each of the `positions` (16 or 36) transform
 * positions xi, M[xi][tile][co] = sum_k V[xi][tile][k] U[xi][k][co] over tiles [0, cnt4), with
 * v [positions][block][CI4], u [positions][CI4][CO8], m [positions][block][CO8]: four tiles (CI4
 * floats apart in v) x eight channels per register tile.
 */
function winogradProducts(vbuf: usize, u: usize, mbuf: usize, positions: i32, cnt4: i32, ci4: i32, co8: i32, block: i32): void {
  const px = <usize>ci4 << 2;
  const vXi = <usize>(block * ci4) << 2;
  const mXi = <usize>(block * co8) << 2;
  const uXi = <usize>(ci4 * co8) << 2;
  for (let xi = 0; xi < positions; xi++) {
    const vb = vbuf + <usize>xi * vXi, mb = mbuf + <usize>xi * mXi, ub = u + <usize>xi * uXi;
    for (let j = 0; j < cnt4; j += 4) {
      const v0 = vb + ((<usize>j * ci4) << 2);
      for (let c = 0; c < co8; c += 8) {
        tile4x8(mb + ((<usize>j * co8 + c) << 2), <usize>co8 << 2, v0, px, 4, ub + (<usize>c << 2), <usize>co8 << 2, ci4, false);
      }
    }
  }
}

/**
 * y = act(bias + conv3x3(xp, w)) by F(2x2,3x3), stride 1. xp [N, HP, WP, CI4] is padded so that
 * every 2x2 output tile's 4x4 input patch exists: HP = 2*ceil(OH/2) + 2, WP likewise. Tiles are
 * handled `block` (a multiple of 4) at a time so their transformed inputs v [16][block][CI4] and
 * products m [16][block][CO8] stay in cache: input transform V = B^T d B, then for each of the 16
 * positions one GEMM M = V U over the channels (the register tile of conv2d: 4 tiles x 8
 * channels), then Y = A^T M A, with B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]] and
 * A^T = [[1,1,1,0],[0,1,-1,-1]]. Outputs of a tile past OH/OW (odd sizes) are not stored.
 */
export function conv2dWinograd(xp: usize, u: usize, bias: usize, y: usize, vbuf: usize, mbuf: usize,
    n: i32, oh: i32, ow: i32, hp: i32, wp: i32, ci4: i32, co8: i32, relu: i32, block: i32): void {
  const th = (oh + 1) >> 1, tw = (ow + 1) >> 1;
  const tiles = n * th * tw;
  const zero = f32x4.splat(0);
  const mXi = <usize>(block * co8) << 2; // bytes per xi plane in M
  for (let t0 = 0; t0 < tiles; t0 += block) {
    const cnt = min(block, tiles - t0);
    const cnt4 = (cnt + 3) & ~3;
    winogradInput(xp, vbuf, t0, cnt, cnt4, th, tw, hp, wp, ci4, block);
    // 2. 16 GEMMs: M[xi][tile][co] = sum_k V[xi][tile][k] U[xi][k][co]
    winogradProducts(vbuf, u, mbuf, 16, cnt4, ci4, co8, block);
    // 3. output transform: Y = A^T M A, A^T = [[1,1,1,0],[0,1,-1,-1]]
    for (let j = 0; j < cnt; j++) {
      const t = t0 + j;
      const b = t / (th * tw);
      const r = t - b * th * tw;
      const ty = r / tw, tx = r - (r / tw) * tw;
      const oy = 2 * ty, ox = 2 * tx;
      const full = oy + 1 < oh && ox + 1 < ow;
      const ybase = y + ((<usize>((b * oh + oy) * ow + ox) * co8) << 2);
      const yRow = <usize>(ow * co8) << 2;
      const yPx = <usize>co8 << 2;
      const src = mbuf + ((<usize>j * co8) << 2);
      for (let c: usize = 0; c < <usize>(co8 << 2); c += 16) {
        const m = src + c;
        const m0 = v128.load(m), m1 = v128.load(m + mXi), m2 = v128.load(m + 2 * mXi), m3 = v128.load(m + 3 * mXi);
        const m4 = v128.load(m + 4 * mXi), m5 = v128.load(m + 5 * mXi), m6 = v128.load(m + 6 * mXi), m7 = v128.load(m + 7 * mXi);
        const m8 = v128.load(m + 8 * mXi), m9 = v128.load(m + 9 * mXi), m10 = v128.load(m + 10 * mXi), m11 = v128.load(m + 11 * mXi);
        const m12 = v128.load(m + 12 * mXi), m13 = v128.load(m + 13 * mXi), m14 = v128.load(m + 14 * mXi), m15 = v128.load(m + 15 * mXi);
        // rows: r0 = m_row0 + m_row1 + m_row2, r1 = m_row1 - m_row2 - m_row3 (per column)
        const r00 = f32x4.add(f32x4.add(m0, m4), m8), r01 = f32x4.add(f32x4.add(m1, m5), m9);
        const r02 = f32x4.add(f32x4.add(m2, m6), m10), r03 = f32x4.add(f32x4.add(m3, m7), m11);
        const r10 = f32x4.sub(f32x4.sub(m4, m8), m12), r11 = f32x4.sub(f32x4.sub(m5, m9), m13);
        const r12 = f32x4.sub(f32x4.sub(m6, m10), m14), r13 = f32x4.sub(f32x4.sub(m7, m11), m15);
        let bv = zero;
        if (bias != 0) bv = v128.load(bias + c);
        let y00 = f32x4.add(f32x4.add(f32x4.add(r00, r01), r02), bv);
        let y01 = f32x4.add(f32x4.sub(f32x4.sub(r01, r02), r03), bv);
        let y10 = f32x4.add(f32x4.add(f32x4.add(r10, r11), r12), bv);
        let y11 = f32x4.add(f32x4.sub(f32x4.sub(r11, r12), r13), bv);
        if (relu != 0) { y00 = f32x4.max(y00, zero); y01 = f32x4.max(y01, zero); y10 = f32x4.max(y10, zero); y11 = f32x4.max(y11, zero); }
        v128.store(ybase + c, y00);
        if (ox + 1 < ow) v128.store(ybase + yPx + c, y01);
        if (oy + 1 < oh) {
          v128.store(ybase + yRow + c, y10);
          if (full) v128.store(ybase + yRow + yPx + c, y11);
        }
      }
    }
  }
}

/**
 * The filter gradient of a 3x3 stride-1 conv by F(2x2,3x3): with V = B^T d B the transformed
 * input patch of a tile and W = A g A^T its transformed 2x2 output gradient g, the forward
 * Y = A^T ((G w G^T) . V) A gives dw = G^T (sum over tiles of V . W) G, per channel pair. So:
 * per block of tiles, transform inputs and gradients, accumulate the 16 products
 * m[xi][ci][co] += sum_t v[xi][t][ci] w[xi][t][co] (tile4x8), and
 * at the end apply G^T . G. dw [3, 3, CI4, CO8] is overwritten; m is scratch [16, CI4, CO8].
 * dyp [N, OH, OW, CO8] is read as is: gradient rows/columns past OH/OW count as zero.
 */
export function conv2dFilterGradWinograd(
  xp: usize, dyp: usize, dw: usize, vbuf: usize, wbuf: usize, mbuf: usize,
  n: i32, oh: i32, ow: i32, hp: i32, wp: i32, ci4: i32, co8: i32, block: i32,
): void {
  const th = (oh + 1) >> 1, tw = (ow + 1) >> 1;
  const tiles = n * th * tw;
  const zero = f32x4.splat(0);
  const vXi = <usize>(block * ci4) << 2;
  const wXi = <usize>(block * co8) << 2;
  const mXi = <usize>(ci4 * co8) << 2;
  const dyPx = <usize>co8 << 2;
  const dyRow = <usize>(ow * co8) << 2;
  memory.fill(mbuf, 0, 16 * mXi);
  for (let t0 = 0; t0 < tiles; t0 += block) {
    const cnt = min(block, tiles - t0);
    const cnt4 = (cnt + 3) & ~3;
    winogradInput(xp, vbuf, t0, cnt, cnt4, th, tw, hp, wp, ci4, block);
    // Gradient transform W = A g A^T, A = [[1,0],[1,1],[1,-1],[0,-1]].
    for (let j = 0; j < cnt4; j++) {
      const dst = wbuf + ((<usize>j * co8) << 2);
      if (j >= cnt) {
        for (let xi = 0; xi < 16; xi++) memory.fill(dst + <usize>xi * wXi, 0, dyPx);
        continue;
      }
      const t = t0 + j;
      const b = t / (th * tw);
      const r = t - b * th * tw;
      const ty = r / tw, tx = r - (r / tw) * tw;
      const oy = 2 * ty, ox = 2 * tx;
      const right = ox + 1 < ow, below = oy + 1 < oh;
      const src = dyp + ((<usize>((b * oh + oy) * ow + ox) * co8) << 2);
      for (let c: usize = 0; c < <usize>(co8 << 2); c += 16) {
        const g00 = v128.load(src + c);
        const g01 = right ? v128.load(src + dyPx + c) : zero;
        const g10 = below ? v128.load(src + dyRow + c) : zero;
        const g11 = right && below ? v128.load(src + dyRow + dyPx + c) : zero;
        // rows: R = A g (4x2)
        const r10 = f32x4.add(g00, g10), r11 = f32x4.add(g01, g11);
        const r20 = f32x4.sub(g00, g10), r21 = f32x4.sub(g01, g11);
        const r30 = f32x4.neg(g10), r31 = f32x4.neg(g11);
        const o = dst + c;
        v128.store(o, g00); v128.store(o + wXi, f32x4.add(g00, g01));
        v128.store(o + 2 * wXi, f32x4.sub(g00, g01)); v128.store(o + 3 * wXi, f32x4.neg(g01));
        v128.store(o + 4 * wXi, r10); v128.store(o + 5 * wXi, f32x4.add(r10, r11));
        v128.store(o + 6 * wXi, f32x4.sub(r10, r11)); v128.store(o + 7 * wXi, f32x4.neg(r11));
        v128.store(o + 8 * wXi, r20); v128.store(o + 9 * wXi, f32x4.add(r20, r21));
        v128.store(o + 10 * wXi, f32x4.sub(r20, r21)); v128.store(o + 11 * wXi, f32x4.neg(r21));
        v128.store(o + 12 * wXi, r30); v128.store(o + 13 * wXi, f32x4.add(r30, r31));
        v128.store(o + 14 * wXi, f32x4.sub(r30, r31)); v128.store(o + 15 * wXi, f32x4.neg(r31));
      }
    }
    // m[xi][ci][co] += sum_t v[xi][t][ci] w[xi][t][co]
    for (let xi = 0; xi < 16; xi++) {
      const vb = vbuf + <usize>xi * vXi, wb = wbuf + <usize>xi * wXi, mb = mbuf + <usize>xi * mXi;
      for (let i = 0; i < ci4; i += 4) {
        for (let c = 0; c < co8; c += 8) {
          const out = mb + ((<usize>i * co8 + c) << 2);
          tile4x8(out, <usize>co8 << 2, vb + (<usize>i << 2), 4, <usize>ci4 << 2, wb + (<usize>c << 2), <usize>co8 << 2, cnt4, true);
        }
      }
    }
  }
  // dw = G^T m G, G^T = [[1,1/2,1/2,0],[0,1/2,-1/2,0],[0,1/2,1/2,1]], four output channels at a time.
  const half = f32x4.splat(HALF);
  const tap = <usize>(ci4 * co8) << 2;
  for (let e: usize = 0; e < mXi; e += 16) {
    const m = mbuf + e;
    // T = G^T m (3x4): one row per output tap row, from the four rows of m
    const t00 = f32x4.add(v128.load(m), f32x4.mul(half, f32x4.add(v128.load(m + 4 * mXi), v128.load(m + 8 * mXi))));
    const t01 = f32x4.add(v128.load(m + mXi), f32x4.mul(half, f32x4.add(v128.load(m + 5 * mXi), v128.load(m + 9 * mXi))));
    const t02 = f32x4.add(v128.load(m + 2 * mXi), f32x4.mul(half, f32x4.add(v128.load(m + 6 * mXi), v128.load(m + 10 * mXi))));
    const t03 = f32x4.add(v128.load(m + 3 * mXi), f32x4.mul(half, f32x4.add(v128.load(m + 7 * mXi), v128.load(m + 11 * mXi))));
    const t10 = f32x4.mul(half, f32x4.sub(v128.load(m + 4 * mXi), v128.load(m + 8 * mXi)));
    const t11 = f32x4.mul(half, f32x4.sub(v128.load(m + 5 * mXi), v128.load(m + 9 * mXi)));
    const t12 = f32x4.mul(half, f32x4.sub(v128.load(m + 6 * mXi), v128.load(m + 10 * mXi)));
    const t13 = f32x4.mul(half, f32x4.sub(v128.load(m + 7 * mXi), v128.load(m + 11 * mXi)));
    const t20 = f32x4.add(f32x4.mul(half, f32x4.add(v128.load(m + 4 * mXi), v128.load(m + 8 * mXi))), v128.load(m + 12 * mXi));
    const t21 = f32x4.add(f32x4.mul(half, f32x4.add(v128.load(m + 5 * mXi), v128.load(m + 9 * mXi))), v128.load(m + 13 * mXi));
    const t22 = f32x4.add(f32x4.mul(half, f32x4.add(v128.load(m + 6 * mXi), v128.load(m + 10 * mXi))), v128.load(m + 14 * mXi));
    const t23 = f32x4.add(f32x4.mul(half, f32x4.add(v128.load(m + 7 * mXi), v128.load(m + 11 * mXi))), v128.load(m + 15 * mXi));
    // dw[r] = T[r] G: (t0 + (t1+t2)/2, (t1-t2)/2, (t1+t2)/2 + t3)
    const o = dw + e;
    v128.store(o, f32x4.add(t00, f32x4.mul(half, f32x4.add(t01, t02))));
    v128.store(o + tap, f32x4.mul(half, f32x4.sub(t01, t02)));
    v128.store(o + 2 * tap, f32x4.add(f32x4.mul(half, f32x4.add(t01, t02)), t03));
    v128.store(o + 3 * tap, f32x4.add(t10, f32x4.mul(half, f32x4.add(t11, t12))));
    v128.store(o + 4 * tap, f32x4.mul(half, f32x4.sub(t11, t12)));
    v128.store(o + 5 * tap, f32x4.add(f32x4.mul(half, f32x4.add(t11, t12)), t13));
    v128.store(o + 6 * tap, f32x4.add(t20, f32x4.mul(half, f32x4.add(t21, t22))));
    v128.store(o + 7 * tap, f32x4.mul(half, f32x4.sub(t21, t22)));
    v128.store(o + 8 * tap, f32x4.add(f32x4.mul(half, f32x4.add(t21, t22)), t23));
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4x4,3x3) (Lavin & Gray 2016, interpolation points 0, +-1, +-2, infinity): 36 products
// per 4x4 output tile and channel pair instead of 144, 4x fewer multiplications than the direct
// loop (F(2x2,3x3): 2.25x), paid for with larger transforms. For the forward pass (and the stride-1
// input gradient, a forward conv) of layers wide enough that the channel GEMMs dominate.
//   B^T = [[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]]
//   G   = [[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],[0,0,1]]
//   A^T = [[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]]

/**
 * u[xi][ci][co] = (G g G^T)[xi] for each 3x3 slice g of w, u [36, CI4, CO8], zero in the padded
 * channels; flipSwap as in winogradFilter; `tmp` is 288 bytes of scratch. Four output channels
 * per f32x4 (gathered lane by lane when flipped, where they lie CI apart): in scalar form the
 * transform had cost more than the conv itself on 4x4 layers at batch 64.
 */
export function winogradFilter4(w: usize, u: usize, tmp: usize, ci: i32, co: i32, ci4: i32, co8: i32, flipSwap: i32): void {
  memory.fill(u, 0, <usize>(36 * ci4 * co8) << 2);
  const tapStep = flipSwap != 0 ? -(<isize>(ci * co) << 2) : <isize>(ci * co) << 2;
  const iStep = flipSwap != 0 ? <isize>4 : <isize>co << 2;
  const oStep = flipSwap != 0 ? <isize>ci << 2 : <isize>4;
  const first = flipSwap != 0 ? w + (<usize>(8 * ci * co) << 2) : w;
  const stride = <usize>(ci4 * co8) << 2;
  for (let i = 0; i < ci; i++) {
    for (let o = 0; o < co; o += 4) {
      const at = first + <usize>(<isize>i * iStep + <isize>o * oStep);
      const lanes = min(4, co - o);
      // T = G g one column c of g at a time (taps c, 3 + c, 6 + c): T[r][c] at tmp + r*48 + c*16.
      for (let c = 0; c < 3; c++) {
        gTransform(taps4(at, c, tapStep, oStep, lanes), taps4(at, 3 + c, tapStep, oStep, lanes),
          taps4(at, 6 + c, tapStep, oStep, lanes), tmp + <usize>c * 16, 48);
      }
      // U[r][k] = (G T[r])[k], stored at u[6r + k][i][o..o+3].
      const base = u + ((<usize>i * co8 + o) << 2);
      for (let r: usize = 0; r < 6; r++) {
        const row = tmp + r * 48;
        gTransform(v128.load(row), v128.load(row, 16), v128.load(row, 32), base + 6 * r * stride, stride);
      }
    }
  }
}

/** Tap k of four output channels (lanes past `lanes` zero): one f32x4 load, or gathered. */
@inline
function taps4(at: usize, k: i32, tapStep: isize, oStep: isize, lanes: i32): v128 {
  const p = at + <usize>(<isize>k * tapStep);
  if (oStep == 4 && lanes == 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + <usize>oStep));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + <usize>(2 * oStep)));
  if (lanes > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + <usize>(3 * oStep)));
  return v;
}

/** G (a, b, c): six values written to q, q + qStep, ..., q + 5*qStep. */
@inline
function gTransform(a: v128, b: v128, c: v128, q: usize, qStep: usize): void {
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  const ac = f32x4.add(a, c);
  const p = f32x4.add(f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), a), f32x4.mul(sixth, c));
  const m = f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), b);
  v128.store(q, f32x4.mul(f32x4.splat(0.25), a));
  v128.store(q + qStep, f32x4.neg(f32x4.mul(sixth, f32x4.add(ac, b))));
  v128.store(q + 2 * qStep, f32x4.neg(f32x4.mul(sixth, f32x4.sub(ac, b))));
  v128.store(q + 3 * qStep, f32x4.add(p, m));
  v128.store(q + 4 * qStep, f32x4.sub(p, m));
  v128.store(q + 5 * qStep, c);
}

/**
 * B^T applied to six vectors x0..x5 at p, p + step, ..., p + 5*step, written to q, q + qStep, ...
 * (one 6-point transform of the rows or the columns of a 6x6 patch, four channels per f32x4).
 */
@inline
function inputTransform6(p: usize, step: usize, q: usize, qStep: usize): void {
  const x0 = v128.load(p), x1 = v128.load(p + step), x2 = v128.load(p + 2 * step);
  const x3 = v128.load(p + 3 * step), x4 = v128.load(p + 4 * step), x5 = v128.load(p + 5 * step);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const a = f32x4.add(x3, x4), b = f32x4.add(x1, x2);
  const c = f32x4.sub(x4, x3), d = f32x4.sub(x1, x2);
  const e = f32x4.sub(x4, x2), f = f32x4.mul(two, f32x4.sub(x3, x1));
  v128.store(q, f32x4.add(f32x4.sub(f32x4.mul(four, x0), f32x4.mul(five, x2)), x4));
  v128.store(q + qStep, f32x4.sub(a, f32x4.mul(four, b)));
  v128.store(q + 2 * qStep, f32x4.add(c, f32x4.mul(four, d)));
  v128.store(q + 3 * qStep, f32x4.add(e, f));
  v128.store(q + 4 * qStep, f32x4.sub(e, f));
  v128.store(q + 5 * qStep, f32x4.add(f32x4.sub(f32x4.mul(four, x1), f32x4.mul(five, x3)), x5));
}

/**
 * The F(4x4,3x3) input transform of tiles [t0, t0+cnt) into v [36][block][CI4]: V = B^T d B for
 * each tile's 6x6 patch d (through `tmp`, 576 bytes of scratch); tiles [cnt, cnt4) are zeroed.
 */
function winogradInput4(
  xp: usize, vbuf: usize, tmp: usize, t0: i32, cnt: i32, cnt4: i32, th: i32, tw: i32, hp: i32, wp: i32, ci4: i32, block: i32,
): void {
  const px = <usize>ci4 << 2;
  const rowB = <usize>(wp * ci4) << 2;
  const vXi = <usize>(block * ci4) << 2;
  for (let j = 0; j < cnt4; j++) {
    if (j >= cnt) {
      for (let xi = 0; xi < 36; xi++) memory.fill(vbuf + <usize>xi * vXi + ((<usize>j * ci4) << 2), 0, px);
      continue;
    }
    const t = t0 + j;
    const b = t / (th * tw);
    const r = t - b * th * tw;
    const ty = r / tw, tx = r - (r / tw) * tw;
    const src = xp + <usize>((b * hp + 4 * ty) * wp + 4 * tx) * px;
    const dst = vbuf + ((<usize>j * ci4) << 2);
    for (let k: usize = 0; k < <usize>(ci4 << 2); k += 16) {
      // tmp[r][c] = (B^T d)[r][c]: transform each column c of the patch
      for (let c: usize = 0; c < 6; c++) inputTransform6(src + k + c * px, rowB, tmp + c * 16, 96);
      // V[r][s] = (tmp[r] B)[s]: transform each row r of tmp
      for (let rr: usize = 0; rr < 6; rr++) inputTransform6(tmp + rr * 96, 16, dst + k + rr * 6 * vXi, vXi);
    }
  }
}

/** A^T applied to six vectors at p, p + step, ...: four results at q, q + qStep, ... */
@inline
function outputTransform6(p: usize, step: usize, q: usize, qStep: usize): void {
  const x0 = v128.load(p), x1 = v128.load(p + step), x2 = v128.load(p + 2 * step);
  const x3 = v128.load(p + 3 * step), x4 = v128.load(p + 4 * step), x5 = v128.load(p + 5 * step);
  const a = f32x4.add(x1, x2), b = f32x4.sub(x1, x2);
  const c = f32x4.add(x3, x4), d = f32x4.sub(x3, x4);
  v128.store(q, f32x4.add(f32x4.add(x0, a), c));
  v128.store(q + qStep, f32x4.add(b, f32x4.mul(f32x4.splat(2), d)));
  v128.store(q + 2 * qStep, f32x4.add(a, f32x4.mul(f32x4.splat(4), c)));
  v128.store(q + 3 * qStep, f32x4.add(f32x4.add(b, f32x4.mul(f32x4.splat(8), d)), x5));
}

/**
 * y = act(bias + conv3x3(xp, w)) by F(4x4,3x3), stride 1, u from winogradFilter4. xp [N, HP, WP,
 * CI4] padded so that every 4x4 output tile's 6x6 patch exists: HP = 4*ceil(OH/4) + 2, WP likewise.
 * As conv2dWinograd, `block` tiles at a time: v [36][block][CI4], m [36][block][CO8]; `tmp` is 640
 * bytes of scratch. Outputs of a tile past OH/OW are not stored.
 */
export function conv2dWinograd4(xp: usize, u: usize, bias: usize, y: usize, vbuf: usize, mbuf: usize, tmp: usize,
    n: i32, oh: i32, ow: i32, hp: i32, wp: i32, ci4: i32, co8: i32, relu: i32, block: i32): void {
  const th = (oh + 3) >> 2, tw = (ow + 3) >> 2;
  const tiles = n * th * tw;
  const zero = f32x4.splat(0);
  const mXi = <usize>(block * co8) << 2;
  const yRow = <usize>(ow * co8) << 2;
  const yPx = <usize>co8 << 2;
  for (let t0 = 0; t0 < tiles; t0 += block) {
    const cnt = min(block, tiles - t0);
    const cnt4 = (cnt + 3) & ~3;
    winogradInput4(xp, vbuf, tmp, t0, cnt, cnt4, th, tw, hp, wp, ci4, block);
    winogradProducts(vbuf, u, mbuf, 36, cnt4, ci4, co8, block);
    for (let j = 0; j < cnt; j++) {
      const t = t0 + j;
      const b = t / (th * tw);
      const r = t - b * th * tw;
      const ty = r / tw, tx = r - (r / tw) * tw;
      const oy = 4 * ty, ox = 4 * tx;
      const rows = min(4, oh - oy), cols = min(4, ow - ox);
      const ybase = y + ((<usize>((b * oh + oy) * ow + ox) * co8) << 2);
      const src = mbuf + ((<usize>j * co8) << 2);
      for (let c: usize = 0; c < <usize>(co8 << 2); c += 16) {
        // tmp[i][col] = (A^T m)[i][col] for the 6 columns, then y[i][jj] = (tmp[i] A)[jj]
        for (let col: usize = 0; col < 6; col++) outputTransform6(src + c + col * mXi, 6 * mXi, tmp + col * 16, 96);
        for (let i: usize = 0; i < 4; i++) outputTransform6(tmp + i * 96, 16, tmp + 384 + i * 64, 16);
        const bv = bias != 0 ? v128.load(bias + c) : zero;
        for (let i = 0; i < rows; i++) {
          for (let jj = 0; jj < cols; jj++) {
            let v = f32x4.add(v128.load(tmp + 384 + <usize>(i * 4 + jj) * 16), bv);
            if (relu != 0) v = f32x4.max(v, zero);
            v128.store(ybase + <usize>i * yRow + <usize>jj * yPx + c, v);
          }
        }
      }
    }
  }
}

/**
 * dst[i] = a[i]*wa + b[i]*wb over n floats, in float32 as tfjs's mul, mul, add: the momentum update of
 * MoCo's key encoder (src/kernels/fused-ema.ts), one call per weight instead of three tfjs ops.
 */
export function blend(dst: usize, a: usize, b: usize, n: i32, wa: f32, wb: f32): void {
  const va = f32x4.splat(wa), vb = f32x4.splat(wb);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(a + o), va), f32x4.mul(v128.load(b + o), vb)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(a + o) * wa + load<f32>(b + o) * wb);
  }
}

/**
 * y = x·s + t (+ x2·s2 when x2 != 0) with s, t, s2 per group and channel: x, x2, y [G, rows, C] and
 * s, t, s2 [G, C], rounded as tfjs's broadcast mul, add, mul, add in that order ((x·s + t) + x2·s2).
 * BatchNorm with per-group statistics (Shuffle BN) is made of such maps; as broadcast ops on wasm
 * each took a generic broadcasting loop (see src/kernels/group-affine.ts).
 */
export function groupAffine(y: usize, x: usize, s: usize, t: usize, x2: usize, s2: usize, groups: i32, rows: i32, c: i32): void {
  const rowBytes = <usize>c << 2;
  const vec = <usize>(c & ~3) << 2;
  for (let g = 0; g < groups; g++) {
    const sg = s + <usize>g * rowBytes;
    const tg = t + <usize>g * rowBytes;
    const s2g = s2 + <usize>g * rowBytes;
    const base = <usize>g * <usize>rows * rowBytes;
    for (let r = 0; r < rows; r++) {
      const at = base + <usize>r * rowBytes;
      let o: usize = 0;
      if (x2 == 0) {
        for (; o < vec; o += 16) {
          v128.store(y + at + o, f32x4.add(f32x4.mul(v128.load(x + at + o), v128.load(sg + o)), v128.load(tg + o)));
        }
        for (; o < rowBytes; o += 4) store<f32>(y + at + o, load<f32>(x + at + o) * load<f32>(sg + o) + load<f32>(tg + o));
      } else {
        for (; o < vec; o += 16) {
          const a = f32x4.add(f32x4.mul(v128.load(x + at + o), v128.load(sg + o)), v128.load(tg + o));
          v128.store(y + at + o, f32x4.add(a, f32x4.mul(v128.load(x2 + at + o), v128.load(s2g + o))));
        }
        for (; o < rowBytes; o += 4) {
          const a = load<f32>(x + at + o) * load<f32>(sg + o) + load<f32>(tg + o);
          store<f32>(y + at + o, a + load<f32>(x2 + at + o) * load<f32>(s2g + o));
        }
      }
    }
  }
}

/**
 * dst [cols, rows] = src [rows, cols]ᵀ (f32): 4x4 blocks transposed in registers (two rounds of lane
 * shuffles), walked in 16-row strips so the strip's source rows stay in cache while its columns are
 * written; edges not a multiple of 4 go one value at a time. tfjs-backend-wasm's Transpose took 5 ms
 * for a [4096, 64] matrix, more than the product it followed.
 */
export function transpose2d(src: usize, dst: usize, rows: i32, cols: i32): void {
  const rows4 = rows & ~3, cols4 = cols & ~3;
  const srcRow = <usize>cols << 2, dstRow = <usize>rows << 2;
  for (let r0 = 0; r0 < rows4; r0 += 16) {
    const r1 = min(rows4, r0 + 16);
    for (let c = 0; c < cols4; c += 4) {
      for (let r = r0; r < r1; r += 4) {
        const from = src + <usize>r * srcRow + (<usize>c << 2);
        const a0 = v128.load(from), a1 = v128.load(from + srcRow), a2 = v128.load(from + 2 * srcRow), a3 = v128.load(from + 3 * srcRow);
        const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
        const to = dst + <usize>c * dstRow + (<usize>r << 2);
        v128.store(to, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(to + dstRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
        v128.store(to + 2 * dstRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
        v128.store(to + 3 * dstRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      }
    }
  }
  // The edges: columns past cols4 of every row, then rows past rows4.
  for (let r = 0; r < rows; r++) {
    for (let c = r < rows4 ? cols4 : 0; c < cols; c++) {
      store<f32>(dst + <usize>c * dstRow + (<usize>r << 2), load<f32>(src + <usize>r * srcRow + (<usize>c << 2)));
    }
  }
}
