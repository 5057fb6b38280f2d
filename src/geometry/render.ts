// A deterministic software renderer for thumbnails: no GPU, no browser. Flat-shaded triangles
// with a z-buffer, a camera fitted to the model, 2×2 supersampling for antialiasing, PNG out.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Texture } from '@gltf-transform/core';
import { PNG } from 'pngjs';
import { linearToSrgbByte, srgbToLinear } from './color';
import { triangles, type Document } from './model';

type Vec3 = [number, number, number];

export interface View {
  name: string;
  /** The direction the camera looks along (upstream's camera directions). */
  direction: Vec3;
  /** Vertical field of view, degrees. */
  fov: number;
}

/** Upstream's four views: iso (-0.5,-0.5,-1) at 70°, then x, y and z at 90°. */
export const UPSTREAM_VIEWS: View[] = [
  { name: 'iso', direction: [-0.5, -0.5, -1], fov: 70 },
  { name: 'x', direction: [0, 0, -1], fov: 90 },
  { name: 'y', direction: [-1, 0, 0], fov: 90 },
  { name: 'z', direction: [0, -1, 0], fov: 90 },
];

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
};

const SUPERSAMPLE = 2;
/** The share of the frame's wider side a model's outline fills (the rest is margin). */
const FILL = 0.9;
const LIGHT: Vec3 = norm([-0.4, 0.8, 0.6]);



interface Texels {
  width: number;
  height: number;
  /** Linear RGB, 3 floats a texel. */
  rgb: Float32Array;
}

/** A texture's pixels (PNG or JPEG), linear; null when it cannot be decoded: its material's colour is used alone. */
function decodeTexture(texture: Texture): Texels | null {
  const image = texture.getImage();
  if (!image) return null;
  try {
    let decoded: { width: number; height: number; data: Uint8Array };
    if (texture.getMimeType() === 'image/png') decoded = PNG.sync.read(Buffer.from(image));
    else if (texture.getMimeType() === 'image/jpeg') decoded = (require('jpeg-js') as typeof import('jpeg-js')).decode(image, { useTArray: true, maxMemoryUsageInMB: 1024 });
    else return null;
    const rgb = new Float32Array(decoded.width * decoded.height * 3);
    for (let i = 0; i < decoded.width * decoded.height; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = srgbToLinear(decoded.data[i * 4 + k]! / 255);
    return { width: decoded.width, height: decoded.height, rgb };
  } catch {
    return null;
  }
}

/** Linear luminance below which a colour is lifted towards grey, so that a black part still shows its shape. */
const MIN_LUMINANCE = 0.05;

/** A linear colour under the light: `shade` (0.35–1) times the colour, dark colours lifted first. */
function lit(r: number, g: number, b: number, shade: number): [number, number, number] {
  const lift = Math.max(0, MIN_LUMINANCE - (0.2126 * r + 0.7152 * g + 0.0722 * b));
  return [(r + lift) * shade, (g + lift) * shade, (b + lift) * shade];
}

/** Renders one view of the model as an RGBA PNG (transparent background). */
export function renderView(doc: Document, view: View, width: number, height: number): Buffer {
  const tris = [...triangles(doc, { uv: true })];
  const textures = new Map<Texture, Texels | null>();
  const texelsOf = (texture: Texture) => {
    if (!textures.has(texture)) textures.set(texture, decodeTexture(texture));
    return textures.get(texture)!;
  };
  const W = width * SUPERSAMPLE;
  const H = height * SUPERSAMPLE;
  const color = new Float32Array(W * H * 4);
  const depth = new Float32Array(W * H).fill(Infinity);

  // Fit the camera: the model's bounding sphere fills the narrower field of view.
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const t of tris) {
    for (const p of [t.a, t.b, t.c]) {
      for (let k = 0; k < 3; k++) {
        min[k] = Math.min(min[k]!, p[k]!);
        max[k] = Math.max(max[k]!, p[k]!);
      }
    }
  }
  const center: Vec3 = [(min[0] + max[0]) / 2, (min[1] + max[1]) / 2, (min[2] + max[2]) / 2];
  const radius = Math.max(1e-9, Math.hypot(max[0] - min[0], max[1] - min[1], max[2] - min[2]) / 2);
  const forward = norm(view.direction);
  const fovY = (view.fov * Math.PI) / 180;
  const aspect = width / height;
  const fovMin = Math.min(fovY, 2 * Math.atan(Math.tan(fovY / 2) * aspect));
  const distance = radius / Math.sin(fovMin / 2);
  const eye: Vec3 = [center[0] - forward[0] * distance, center[1] - forward[1] * distance, center[2] - forward[2] * distance];
  const worldUp: Vec3 = Math.abs(forward[1]) > 0.99 ? [0, 0, -1] : [0, 1, 0];
  const right = norm(cross(forward, worldUp));
  const up = cross(right, forward);
  const f = 1 / Math.tan(fovY / 2);

  // The camera sees the whole bounding sphere, so the model is smaller than the frame and, where
  // its outline is lopsided (an L, a bracket), off-centre. A lens shift and zoom (a change of the
  // pinhole's intrinsics, the same perspective) centre the drawn outline and make it fill FILL.
  const lens = (d: Vec3) => {
    const z = dot(d, forward); // distance along the view, > 0 in front
    return [(dot(d, right) * f) / (aspect * z), (dot(d, up) * f) / z, z] as const;
  };
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const t of tris) {
    for (const p of [t.a, t.b, t.c]) {
      const [x, y] = lens(sub(p, eye));
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  const span = Math.max(x1 - x0, y1 - y0);
  const zoom = span > 1e-9 ? (2 * FILL) / span : 1;
  const [cx, cy] = span > 1e-9 ? [(x0 + x1) / 2, (y0 + y1) / 2] : [0, 0];
  const project = (p: Vec3): Vec3 => {
    const [lx, ly, z] = lens(sub(p, eye));
    const x = (lx - cx) * zoom;
    const y = (ly - cy) * zoom;
    return [((x + 1) / 2) * W, ((1 - y) / 2) * H, z];
  };

  for (const t of tris) {
    const a = project(t.a);
    const b = project(t.b);
    const c = project(t.c);
    if (a[2] <= 0 || b[2] <= 0 || c[2] <= 0) continue;
    const n = norm(cross(sub(t.b, t.a), sub(t.c, t.a)));
    const shade = 0.35 + 0.65 * Math.abs(dot(n, LIGHT)); // two-sided: CAD faces are not always oriented
    const base = t.material ? t.material.getBaseColorFactor() : [0.8, 0.8, 0.8, 1];
    const rgb = lit(base[0]!, base[1]!, base[2]!, shade);
    const texels = t.uv ? texelsOf(t.material!.getBaseColorTexture()!) : null;
    const area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    if (area === 0) continue;
    const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0], c[0])));
    const x1 = Math.min(W - 1, Math.ceil(Math.max(a[0], b[0], c[0])));
    const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1], c[1])));
    const y1 = Math.min(H - 1, Math.ceil(Math.max(a[1], b[1], c[1])));
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        const w0 = ((b[0] - px) * (c[1] - py) - (b[1] - py) * (c[0] - px)) / area;
        const w1 = ((c[0] - px) * (a[1] - py) - (c[1] - py) * (a[0] - px)) / area;
        const w2 = 1 - w0 - w1;
        if (w0 < 0 || w1 < 0 || w2 < 0) continue;
        const z = w0 * a[2] + w1 * b[2] + w2 * c[2];
        const i = y * W + x;
        if (z >= depth[i]!) continue;
        depth[i] = z;
        if (texels) {
          // Perspective-correct texture coordinates; nearest texel, repeated outside [0, 1].
          const [p0, p1, p2] = [w0 / a[2], w1 / b[2], w2 / c[2]];
          const s = p0 + p1 + p2;
          const u = (p0 * t.uv![0][0] + p1 * t.uv![1][0] + p2 * t.uv![2][0]) / s;
          const v = (p0 * t.uv![0][1] + p1 * t.uv![1][1] + p2 * t.uv![2][1]) / s;
          const tx = Math.min(texels.width - 1, Math.floor((u - Math.floor(u)) * texels.width));
          const ty = Math.min(texels.height - 1, Math.floor((v - Math.floor(v)) * texels.height));
          const k = (ty * texels.width + tx) * 3;
          const texel = lit(base[0]! * texels.rgb[k]!, base[1]! * texels.rgb[k + 1]!, base[2]! * texels.rgb[k + 2]!, shade);
          color[i * 4] = texel[0];
          color[i * 4 + 1] = texel[1];
          color[i * 4 + 2] = texel[2];
        } else {
          color[i * 4] = rgb[0]!;
          color[i * 4 + 1] = rgb[1]!;
          color[i * 4 + 2] = rgb[2]!;
        }
        color[i * 4 + 3] = 1;
      }
    }
  }

  // Downsample: average each 2×2 block (colours weighted by coverage) into one pixel.
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let cover = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const i = ((y * SUPERSAMPLE + sy) * W + (x * SUPERSAMPLE + sx)) * 4;
          if (color[i + 3] === 0) continue;
          r += color[i]!;
          g += color[i + 1]!;
          b += color[i + 2]!;
          cover += 1;
        }
      }
      const o = (y * width + x) * 4;
      if (cover > 0) {
        // glTF colours are linear; PNG pixels are sRGB.
        png.data[o] = linearToSrgbByte(r / cover);
        png.data[o + 1] = linearToSrgbByte(g / cover);
        png.data[o + 2] = linearToSrgbByte(b / cover);
      }
      png.data[o + 3] = Math.round((255 * cover) / (SUPERSAMPLE * SUPERSAMPLE));
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

/**
 * Writes `<view>.png` for each of upstream's four views into `dir` and returns their names by
 * view; `onView` is called before each (for progress).
 */
export async function writeThumbnails(
  doc: Document,
  dir: string,
  width: number,
  height: number,
  onView: (view: View) => void = () => {},
): Promise<Record<string, string>> {
  const thumbs: Record<string, string> = {};
  for (const view of UPSTREAM_VIEWS) {
    onView(view);
    await fs.writeFile(path.join(dir, `${view.name}.png`), renderView(doc, view, width, height));
    thumbs[view.name] = `${view.name}.png`;
  }
  return thumbs;
}
