// Colour spaces: glTF keeps base colours linear; files (STEP, IFC, 3MF) and pixels are sRGB.

/** An sRGB component (0–1) to linear. */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

/** A linear component to an sRGB byte (0–255), clamped. */
export function linearToSrgbByte(linear: number): number {
  const c = linear <= 0.0031308 ? 12.92 * linear : 1.055 * Math.pow(linear, 1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, c)) * 255);
}
