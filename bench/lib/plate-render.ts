/**
 * Rendered Chinese plates in camera frames, for the `plates` benchmark. Everything is drawn from a seed:
 * the plate number in one of the GA 36-2018 formats and its colour, the font (CJK fonts from Debian
 * packages, found through fontconfig), the plate's width in the frame, its roll and yaw, blur, night and
 * JPEG quality. The plate is drawn as SVG (sharp/librsvg), then warped into the frame through a
 * perspective transform, so a yawed plate is narrower on one side as a camera sees it.
 */
import sharp from 'sharp';
import { applyHomography, homography, PROVINCES, type Quad, type RawFrame } from '@safe-community/analytics';

export const FONTS = ['WenQuanYi Zen Hei', 'AR PL UKai CN', 'AR PL UMing CN', 'WenQuanYi Micro Hei'];
export type Colour = 'blue' | 'yellow' | 'green' | 'white';

export interface PlateSpec {
  plate: string;
  colour: Colour;
  font: string;
  /** Plate width in frame pixels. */
  width: number;
  rollDeg: number;
  yawDeg: number;
  blur: number;
  night: boolean;
  jpeg: number;
  frame: { width: number; height: number };
}

/** The simulators' small seeded generator (mulberry32), so the set is the same on every run. */
export { prng as rng } from '@safe-community/simulators';

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '0123456789';

export function randomSpec(r: () => number, colour: Colour): PlateSpec {
  const pick = (s: string) => s[Math.floor(r() * s.length)]!;
  const prov = pick(PROVINCES);
  const issuer = pick(LETTERS);
  let rest = '';
  if (colour === 'green') rest = pick('DF') + (r() < 0.5 ? pick(LETTERS) : pick(DIGITS)) + Array.from({ length: 4 }, () => pick(DIGITS)).join('');
  else if (colour === 'white') rest = Array.from({ length: 4 }, () => pick(DIGITS)).join('') + '警';
  else {
    // ordinary numbers: 5 characters, at most two letters
    const letters = Math.floor(r() * 3);
    const pos = new Set<number>();
    while (pos.size < letters) pos.add(Math.floor(r() * 5));
    rest = Array.from({ length: 5 }, (_, i) => (pos.has(i) ? pick(LETTERS) : pick(DIGITS))).join('');
  }
  const large = r() < 0.2;
  const frame = large ? { width: 1920, height: 1080 } : { width: 1280, height: 720 };
  return {
    plate: prov + issuer + rest, colour, font: FONTS[Math.floor(r() * FONTS.length)]!,
    width: Math.round(100 + r() * 200),
    rollDeg: (r() * 2 - 1) * 25,
    yawDeg: (r() * 2 - 1) * 25,
    blur: r() < 0.3 ? 0.6 + r() * 0.9 : 0,
    night: r() < 0.2,
    jpeg: Math.round(40 + r() * 50),
    frame,
  };
}

const STYLE: Record<Colour, { bg: string; bg2?: string; fg: string; border: string; mm: number }> = {
  blue: { bg: '#0b4ea2', fg: '#ffffff', border: '#ffffff', mm: 440 },
  yellow: { bg: '#f2c200', fg: '#111111', border: '#111111', mm: 440 },
  green: { bg: '#f4fbf4', bg2: '#3fbf5f', fg: '#111111', border: '#111111', mm: 480 },
  white: { bg: '#f7f7f7', fg: '#111111', border: '#111111', mm: 440 },
};

/** The plate as an SVG in millimetres (140 high), characters 45 wide and 90 high, a dot after the second. */
export function plateSvg(spec: PlateSpec, scale: number): string {
  const st = STYLE[spec.colour];
  const chars = [...spec.plate];
  const W = st.mm, H = 140;
  const cw = spec.colour === 'green' ? 43 : 45;
  const gap = spec.colour === 'green' ? 9 : 12;
  const dotGap = 34;
  const total = chars.length * cw + (chars.length - 2) * gap + dotGap;
  let x = (W - total) / 2;
  const parts: string[] = [];
  chars.forEach((c, i) => {
    const cx = x + cw / 2;
    const cjk = /[\u4e00-\u9fff]/.test(c);
    const size = cjk ? 92 : 124;
    const sx = cjk ? 0.5 : 0.66;
    const colour = c === '警' ? '#c00000' : st.fg;
    parts.push(`<text transform="translate(${cx.toFixed(1)} ${cjk ? 111 : 116}) scale(${sx} 1)" font-family="${spec.font}" font-size="${size}" font-weight="${cjk ? 'normal' : 'bold'}" text-anchor="middle" fill="${colour}">${c}</text>`);
    x += cw + (i === 1 ? dotGap : gap);
    if (i === 1) parts.push(`<circle cx="${(x - dotGap / 2).toFixed(1)}" cy="70" r="5" fill="${st.fg}"/>`);
  });
  const fill = st.bg2 ? 'url(#g)' : st.bg;
  const grad = st.bg2 ? `<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${st.bg}"/><stop offset="1" stop-color="${st.bg2}"/></linearGradient></defs>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(W * scale)}" height="${Math.round(H * scale)}" viewBox="0 0 ${W} ${H}">${grad}`
    + `<rect width="${W}" height="${H}" rx="10" fill="${fill}"/><rect x="5" y="5" width="${W - 10}" height="${H - 10}" rx="7" fill="none" stroke="${st.border}" stroke-width="3"/>`
    + `${parts.join('')}</svg>`;
}

/** Where the plate lands: its four corners after yaw (foreshortening and perspective) and roll, centred at (cx, cy). */
export function plateQuad(spec: PlateSpec, cx: number, cy: number): Quad {
  const st = STYLE[spec.colour];
  const w = spec.width;
  const h = (w * 140) / st.mm;
  const yaw = (spec.yawDeg * Math.PI) / 180;
  const roll = (spec.rollDeg * Math.PI) / 180;
  const half = (w * Math.cos(yaw)) / 2;
  // the nearer side looks taller: about 15 % at 25° for a camera a few metres away
  const near = 1 + 0.35 * Math.sin(yaw);
  const far = 1 - 0.35 * Math.sin(yaw);
  const pts: Array<[number, number]> = [[-half, (-h / 2) * far], [half, (-h / 2) * near], [half, (h / 2) * near], [-half, (h / 2) * far]];
  return pts.map(([x, y]) => [cx + x * Math.cos(roll) - y * Math.sin(roll), cy + x * Math.sin(roll) + y * Math.cos(roll)]) as Quad;
}

/**
 * One JPEG frame of the plate on a vehicle-like background. `jitter` moves and scales the plate a little,
 * as consecutive frames of a car at a barrier do.
 */
export async function renderFrame(spec: PlateSpec, r: () => number, jitter = 0): Promise<Buffer> {
  const { width: FW, height: FH } = spec.frame;
  const scale = (spec.width * (1 + (r() * 2 - 1) * 0.04 * jitter) * 2) / STYLE[spec.colour].mm;
  const plate = await sharp(Buffer.from(plateSvg(spec, scale))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame = background(FW, FH, r);
  const cx = FW * (0.35 + r() * 0.3) + (r() * 2 - 1) * 8 * jitter;
  const cy = FH * (0.45 + r() * 0.25) + (r() * 2 - 1) * 8 * jitter;
  const quad = plateQuad({ ...spec, width: spec.width * (1 + (r() * 2 - 1) * 0.04 * jitter) }, cx, cy);
  // a car body around the plate
  fillRect(frame, cx - spec.width * 1.6, cy - spec.width * 0.9, cx + spec.width * 1.6, cy + spec.width * 0.6, [40 + r() * 150, 40 + r() * 150, 40 + r() * 150]);
  paste(frame, { width: plate.info.width, height: plate.info.height, data: plate.data }, quad);
  let img = sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length), { raw: { width: FW, height: FH, channels: 3 } });
  if (spec.blur > 0) img = img.blur(0.3 + spec.blur);
  if (spec.night) img = img.linear(0.35, 4).gamma(1.3);
  const noisy = await img.raw().toBuffer();
  const sigma = spec.night ? 9 : 3;
  for (let i = 0; i < noisy.length; i += 7) noisy[i] = Math.max(0, Math.min(255, noisy[i]! + (r() * 2 - 1) * sigma * 1.7));
  return sharp(noisy, { raw: { width: FW, height: FH, channels: 3 } }).jpeg({ quality: spec.jpeg }).toBuffer();
}

function background(w: number, h: number, r: () => number): RawFrame {
  const data = new Uint8Array(w * h * 3);
  const base = [60 + r() * 120, 60 + r() * 120, 60 + r() * 120];
  for (let y = 0; y < h; y++) {
    const shade = 0.7 + (0.5 * y) / h;
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = Math.min(255, base[c]! * shade);
    }
  }
  return { width: w, height: h, data };
}

function fillRect(f: RawFrame, x0: number, y0: number, x1: number, y1: number, rgb: number[]): void {
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(f.height, y1); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(f.width, x1); x++) {
      const o = (y * f.width + x) * 3;
      f.data[o] = rgb[0]!; f.data[o + 1] = rgb[1]!; f.data[o + 2] = rgb[2]!;
    }
  }
}

/** Draws `src` into the quadrilateral `quad` of `dst` (inverse mapping, bilinear). */
function paste(dst: RawFrame, src: RawFrame, quad: Quad): void {
  const h = homography(quad, [[0, 0], [src.width, 0], [src.width, src.height], [0, src.height]]);
  const xs = quad.map((p) => p[0]), ys = quad.map((p) => p[1]);
  for (let y = Math.max(0, Math.floor(Math.min(...ys))); y <= Math.min(dst.height - 1, Math.ceil(Math.max(...ys))); y++) {
    for (let x = Math.max(0, Math.floor(Math.min(...xs))); x <= Math.min(dst.width - 1, Math.ceil(Math.max(...xs))); x++) {
      const [u, v] = applyHomography(h, x + 0.5, y + 0.5);
      if (u < 0 || v < 0 || u >= src.width - 1 || v >= src.height - 1) continue;
      const x0 = Math.floor(u), y0 = Math.floor(v), fx = u - x0, fy = v - y0;
      const o = (y * dst.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const a = src.data[(y0 * src.width + x0) * 3 + c]!, b = src.data[(y0 * src.width + x0 + 1) * 3 + c]!;
        const d = src.data[((y0 + 1) * src.width + x0) * 3 + c]!, e = src.data[((y0 + 1) * src.width + x0 + 1) * 3 + c]!;
        dst.data[o + c] = Math.round((a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy);
      }
    }
  }
}
