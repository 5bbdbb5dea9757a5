// Float64 references for 2-D convolution by direct loops: forward, and the gradients with respect to
// the input, the filter and the bias. Layout: NHWC activations [N,H,W,C], filters [KH,KW,Cin,Cout].
// Padding follows Keras: 'valid' pads nothing; 'same' pads max((ceil(H/s)-1)*s + KH - H, 0) in total,
// the smaller half on top/left. Written independently of the kernels' own geometry code on purpose.

export type RefPadding = 'same' | 'valid' | { top: number; bottom: number; left: number; right: number };

export interface ConvGeom {
  N: number; H: number; W: number; Cin: number;
  KH: number; KW: number; Cout: number;
  sh: number; sw: number;
  top: number; left: number;
  Ho: number; Wo: number;
}

export function convGeom(x: readonly number[], w: readonly number[], stride: [number, number], padding: RefPadding): ConvGeom {
  const [N, H, W, Cin] = x as [number, number, number, number];
  const [KH, KW, , Cout] = w as [number, number, number, number];
  const [sh, sw] = stride;
  let pads: [number, number, number, number];
  if (padding === 'valid') pads = [0, 0, 0, 0];
  else if (padding === 'same') {
    const th = Math.max((Math.ceil(H / sh) - 1) * sh + KH - H, 0);
    const tw = Math.max((Math.ceil(W / sw) - 1) * sw + KW - W, 0);
    pads = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else pads = [padding.top, padding.bottom, padding.left, padding.right];
  const Ho = Math.floor((H + pads[0] + pads[1] - KH) / sh) + 1;
  const Wo = Math.floor((W + pads[2] + pads[3] - KW) / sw) + 1;
  return { N, H, W, Cin, KH, KW, Cout, sh, sw, top: pads[0], left: pads[2], Ho, Wo };
}

/** Calls fn(xIndex, wIndex, yIndex) for every multiply-add term of the convolution. */
function forEachTerm(g: ConvGeom, fn: (xi: number, wi: number, yi: number) => void): void {
  for (let n = 0; n < g.N; n++) {
    for (let oh = 0; oh < g.Ho; oh++) {
      for (let ow = 0; ow < g.Wo; ow++) {
        const yBase = ((n * g.Ho + oh) * g.Wo + ow) * g.Cout;
        for (let kh = 0; kh < g.KH; kh++) {
          const ih = oh * g.sh + kh - g.top;
          if (ih < 0 || ih >= g.H) continue;
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.sw + kw - g.left;
            if (iw < 0 || iw >= g.W) continue;
            const xBase = ((n * g.H + ih) * g.W + iw) * g.Cin;
            const wBase = (kh * g.KW + kw) * g.Cin * g.Cout;
            for (let ci = 0; ci < g.Cin; ci++) {
              for (let co = 0; co < g.Cout; co++) fn(xBase + ci, wBase + ci * g.Cout + co, yBase + co);
            }
          }
        }
      }
    }
  }
}

export function conv2dRef(
  x: ArrayLike<number>, w: ArrayLike<number>, g: ConvGeom, bias?: ArrayLike<number>, relu = false,
): Float64Array {
  const y = new Float64Array(g.N * g.Ho * g.Wo * g.Cout);
  forEachTerm(g, (xi, wi, yi) => { y[yi] += x[xi]! * w[wi]!; });
  for (let i = 0; i < y.length; i++) {
    const v = y[i]! + (bias ? bias[i % g.Cout]! : 0);
    y[i] = relu ? Math.max(v, 0) : v;
  }
  return y;
}

export function conv2dBackwardInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, g: ConvGeom): Float64Array {
  const dx = new Float64Array(g.N * g.H * g.W * g.Cin);
  forEachTerm(g, (xi, wi, yi) => { dx[xi] += dy[yi]! * w[wi]!; });
  return dx;
}

export function conv2dBackwardFilterRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom): Float64Array {
  const dw = new Float64Array(g.KH * g.KW * g.Cin * g.Cout);
  forEachTerm(g, (xi, wi, yi) => { dw[wi] += x[xi]! * dy[yi]!; });
  return dw;
}

export function conv2dBackwardBiasRef(dy: ArrayLike<number>, cout: number): Float64Array {
  const db = new Float64Array(cout);
  for (let i = 0; i < dy.length; i++) db[i % cout] += dy[i]!;
  return db;
}
