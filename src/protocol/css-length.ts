/**
 * Widths and heights of an embedded meeting: a plain number (pixels) or a number with one of
 * these units. One definition for the API's iframe markup (src/api/http/embed.ts) and for
 * parley-embed.js, so both accept the same sizes. No imports: built into both.
 */
export const CSS_LENGTH_UNITS = ['px', '%', 'em', 'rem', 'vh', 'vw', 'vmin', 'vmax', 'dvh', 'svh', 'lvh', 'ch'] as const;

const CSS_LENGTH = new RegExp(`^(\\d{1,5}(?:\\.\\d{1,3})?)(${CSS_LENGTH_UNITS.join('|')})?$`);

export interface CssLength {
  /** For a style: always with a unit (a plain number becomes pixels). */
  css: string;
  /**
   * For the width/height attribute, which takes only a whole number of CSS pixels: set for
   * `640` and `640px`, absent for anything else.
   */
  pixels?: number;
}

/** The length `value` stands for, or undefined when it is not one (surrounding spaces allowed). */
export function parseCssLength(value: string): CssLength | undefined {
  const m = CSS_LENGTH.exec(value.trim());
  if (!m) return undefined;
  const [, number, unit] = m;
  const whole = /^\d+$/.test(number!);
  return { css: `${number}${unit ?? 'px'}`, ...(whole && (unit ?? 'px') === 'px' ? { pixels: Number(number) } : {}) };
}
