// AssemblyScript source of the library's SIMD convolution kernels for the wasm backend (compiled
// by `npm run build:simd` into conv-kernels-wasm.ts; never imported by TypeScript).
//
// Why a kernel of our own: on tfjs-backend-wasm 4.22 the filter gradient had to be phrased as an
// XNNPACK forward conv whose "filter" is dy, which XNNPACK re-packs on every call (~12 GFLOP/s),
// and XNNPACK's forward conv runs the 16-channel layers of a CIFAR ResNet at ~12 GFLOP/s. These
// loops keep a register tile of 8 f32x4 accumulators (4 scalars x 8 channels) and reach 30-40
// GFLOP/s on one core of this machine (128-bit SIMD, no FMA in wasm without relaxed-simd).
//
// Layouts (all f32, NHWC, set up by the caller in src/backend/simd-conv.ts):
//   xp  input, zero-padded to exactly the window: [N, HP, WP, CI], HP = (OH-1)*SH + FH
//   w   filter [FH, FW, CI, CO8]    (CO8 = output channels rounded up to 8, zero-filled)
//   y   output [N, OH, OW, CO8]
//   dyp output gradient [N, OH, OW, CO8]
//   dw  filter gradient [FH, FW, CI4, CO8] (CI4 = input channels rounded up to 4, xp padded alike)

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
 * bias = 0 means none; relu != 0 clamps at zero.
 */
export function conv2d(
  xp: usize, w: usize, bias: usize, y: usize,
  n: i32, oh: i32, ow: i32, hp: i32, wp: i32, ci: i32, co8: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, relu: i32,
): void {
  const pixel = <usize>(sw * ci) << 2; // bytes between horizontally adjacent windows
  const wRow = <usize>co8 << 2; // bytes between input channels in w
  const yPixel = <usize>co8 << 2;
  const zero = f32x4.splat(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const rowIn = xp + (<usize>((b * hp + r * sh) * wp) * ci << 2);
      const rowOut = y + (<usize>((b * oh + r) * ow) * co8 << 2);
      for (let c = 0; c < co8; c += 8) {
        let b0 = zero, b1 = zero;
        if (bias != 0) {
          b0 = v128.load(bias + (<usize>c << 2));
          b1 = v128.load(bias + (<usize>c << 2), 16);
        }
        let x0 = 0;
        // Four adjacent output pixels x eight channels.
        for (; x0 + 4 <= ow; x0 += 4) {
          let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
          for (let kh = 0; kh < fh; kh++) {
            for (let kw = 0; kw < fw; kw++) {
              let px = rowIn + (<usize>((kh * wp + x0 * sw + kw) * ci) << 2);
              let pw = w + ((<usize>((kh * fw + kw) * ci) * co8 + c) << 2);
              for (let k = 0; k < ci; k++) {
                const w0 = v128.load(pw);
                const w1 = v128.load(pw, 16);
                const s0 = v128.load32_splat(px);
                a00 = f32x4.add(a00, f32x4.mul(s0, w0));
                a01 = f32x4.add(a01, f32x4.mul(s0, w1));
                const s1 = v128.load32_splat(px + pixel);
                a10 = f32x4.add(a10, f32x4.mul(s1, w0));
                a11 = f32x4.add(a11, f32x4.mul(s1, w1));
                const s2 = v128.load32_splat(px + 2 * pixel);
                a20 = f32x4.add(a20, f32x4.mul(s2, w0));
                a21 = f32x4.add(a21, f32x4.mul(s2, w1));
                const s3 = v128.load32_splat(px + 3 * pixel);
                a30 = f32x4.add(a30, f32x4.mul(s3, w0));
                a31 = f32x4.add(a31, f32x4.mul(s3, w1));
                px += 4;
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
          const out = rowOut + ((<usize>x0 * co8 + c) << 2);
          v128.store(out, a00);
          v128.store(out, a01, 16);
          v128.store(out + yPixel, a10);
          v128.store(out + yPixel, a11, 16);
          v128.store(out + 2 * yPixel, a20);
          v128.store(out + 2 * yPixel, a21, 16);
          v128.store(out + 3 * yPixel, a30);
          v128.store(out + 3 * yPixel, a31, 16);
        }
        // The remaining 0-3 pixels of the row, one at a time.
        for (; x0 < ow; x0++) {
          let a0 = b0, a1 = b1;
          for (let kh = 0; kh < fh; kh++) {
            for (let kw = 0; kw < fw; kw++) {
              let px = rowIn + (<usize>((kh * wp + x0 * sw + kw) * ci) << 2);
              let pw = w + ((<usize>((kh * fw + kw) * ci) * co8 + c) << 2);
              for (let k = 0; k < ci; k++) {
                const s = v128.load32_splat(px);
                a0 = f32x4.add(a0, f32x4.mul(s, v128.load(pw)));
                a1 = f32x4.add(a1, f32x4.mul(s, v128.load(pw, 16)));
                px += 4;
                pw += wRow;
              }
            }
          }
          if (relu != 0) {
            a0 = f32x4.max(a0, zero);
            a1 = f32x4.max(a1, zero);
          }
          const out = rowOut + ((<usize>x0 * co8 + c) << 2);
          v128.store(out, a0);
          v128.store(out, a1, 16);
        }
      }
    }
  }
}

/**
 * dw[kh,kw,ci,co] = sum_{n,oh,ow} xp[n, oh*sh+kh, ow*sw+kw, ci] * dyp[n,oh,ow,co], overwriting dw.
 * The output rows (n, oh) are walked in chunks of `rowsPerChunk` so that the chunk's input rows
 * and gradient rows stay in cache while every (tap, 4-channel, 8-channel) block sweeps them; each
 * block's 8 accumulators live in registers for the whole chunk.
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
              let px = xp + ((<usize>((b * hp + y * sh + kh) * wp + kw) * ci4 + i) << 2);
              let pd = dyp + ((<usize>r * ow * co8 + c) << 2);
              for (let x = 0; x < ow; x++) {
                const d0 = v128.load(pd);
                const d1 = v128.load(pd, 16);
                const s0 = v128.load32_splat(px);
                a00 = f32x4.add(a00, f32x4.mul(s0, d0));
                a01 = f32x4.add(a01, f32x4.mul(s0, d1));
                const s1 = v128.load32_splat(px + 4);
                a10 = f32x4.add(a10, f32x4.mul(s1, d0));
                a11 = f32x4.add(a11, f32x4.mul(s1, d1));
                const s2 = v128.load32_splat(px + 8);
                a20 = f32x4.add(a20, f32x4.mul(s2, d0));
                a21 = f32x4.add(a21, f32x4.mul(s2, d1));
                const s3 = v128.load32_splat(px + 12);
                a30 = f32x4.add(a30, f32x4.mul(s3, d0));
                a31 = f32x4.add(a31, f32x4.mul(s3, d1));
                px += xStep;
                pd += dyStep;
              }
            }
            v128.store(out, a00);
            v128.store(out, a01, 16);
            v128.store(out + dwRow, a10);
            v128.store(out + dwRow, a11, 16);
            v128.store(out + 2 * dwRow, a20);
            v128.store(out + 2 * dwRow, a21, 16);
            v128.store(out + 3 * dwRow, a30);
            v128.store(out + 3 * dwRow, a31, 16);
          }
        }
      }
    }
  }
}
