import { CoreError } from '../../core/index.js';
import { CSS_LENGTH_UNITS, parseCssLength, type CssLength } from '../../protocol/css-length.js';
import { escapeHtml } from './html.js';

/** Permissions the meeting needs from the embedding page. */
export const IFRAME_ALLOW = 'camera; microphone; display-capture; autoplay; fullscreen; clipboard-write';

/** A width or height as given, if it is a plain CSS length; else a 400 naming the field. */
export function cssLength(field: string, value: string | undefined, fallback: string): CssLength {
  const length = parseCssLength(value?.trim() || fallback);
  if (!length) {
    throw new CoreError('invalid', `must be a CSS length such as 400px, 400 or 100% (units: ${CSS_LENGTH_UNITS.join(', ')})`, { field });
  }
  return length;
}

/**
 * The iframe both APIs hand out: every attribute escaped, camera and microphone allowed. The
 * size is in the style; the width/height attributes (whole pixels only, by HTML's rules) are
 * there too when the size is in pixels, for pages that strip styles.
 */
export function embedIframe(src: string, title: string, width: CssLength, height: CssLength): string {
  const attributes = (width.pixels !== undefined ? ` width="${width.pixels}"` : '') + (height.pixels !== undefined ? ` height="${height.pixels}"` : '');
  return `<iframe src="${escapeHtml(src)}"${attributes} style="width:${width.css};height:${height.css};border:0"`
    + ` allow="${IFRAME_ALLOW}"`
    + ` allowfullscreen webkitallowfullscreen mozallowfullscreen title="${escapeHtml(`Meeting: ${title}`)}"></iframe>`;
}
