/**
 * The design tokens (src/web/theme.css) meet WCAG AA in both colour schemes: 4.5:1 for text on
 * the surfaces it is drawn on, 3:1 for what is not text but must be seen (the focus ring, a
 * field's edge, the active speaker's ring).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../src/web/theme.css', import.meta.url), 'utf8');

/** `--name: #hex;` declarations of one block. */
function tokens(block: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of block.matchAll(/--([a-z0-9-]+):\s*(#[0-9a-f]{6})\s*;/gi)) found.set(m[1]!, m[2]!.toLowerCase());
  return found;
}

const darkAt = css.indexOf('@media (prefers-color-scheme: dark)');
const light = tokens(css.slice(0, darkAt));
// Dark overrides what it names; the rest (video, type…) is shared.
const dark = new Map([...light, ...tokens(css.slice(darkAt))]);

function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const SURFACES = ['bg', 'surface', 'surface-2'];
/** Text (4.5:1): each foreground on the backgrounds it is drawn on. */
const TEXT: [string, string[]][] = [
  ['text', [...SURFACES, 'surface-3', 'accent-dim']],
  ['muted', [...SURFACES, 'surface-3', 'accent-dim']],
  ['on-accent', ['accent', 'accent-hover']],
  ['on-danger', ['danger']],
  ['off-text', ['off', 'off-hover']],
  ['on-speak', ['speak']],
  ['ok-text', ['ok-bg']],
  ['warn-text', ['warn-bg']],
  ['recording', SURFACES],
  ['on-video', ['video-bg']],
  ['on-video-off', ['video-bg']],
  ['on-video-hand', ['video-bg']],
];
/** Seen but not read (3:1). */
const GRAPHICS: [string, string[]][] = [
  ['focus', [...SURFACES, 'surface-3']],
  ['field-border', ['bg', 'surface']],
  ['speak', ['surface']],
  ['hand', ['surface']],
  ['accent', ['surface']],
];

describe('design tokens', () => {
  for (const [scheme, colours] of [['light', light], ['dark', dark]] as const) {
    it(`${scheme}: text is AA (4.5:1) and controls and rings 3:1 on their backgrounds`, () => {
      const failures: string[] = [];
      for (const [pairs, min] of [[TEXT, 4.5], [GRAPHICS, 3]] as const) {
        for (const [fg, backgrounds] of pairs) {
          for (const bg of backgrounds) {
            const [f, b] = [colours.get(fg), colours.get(bg)];
            expect(f, `--${fg}`).toBeDefined();
            expect(b, `--${bg}`).toBeDefined();
            const ratio = contrast(f!, b!);
            if (ratio < min) failures.push(`--${fg} on --${bg}: ${ratio.toFixed(2)} < ${min}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it('dark changes every colour of the page (nothing light is left over)', () => {
    for (const name of ['bg', 'surface', 'surface-2', 'text', 'muted', 'accent', 'border']) {
      expect(dark.get(name), name).not.toBe(light.get(name));
    }
    expect(luminance(dark.get('bg')!)).toBeLessThan(luminance(light.get('bg')!));
  });
});
