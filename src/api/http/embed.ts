import { CoreError } from '../../core/index.js';
import { escapeHtml } from './html.js';

const CSS_LENGTH = /^\d{1,5}(\.\d{1,3})?(px|%|em|rem|vh|vw)?$/;

/** Permissions the meeting needs from the embedding page. */
export const IFRAME_ALLOW = 'camera; microphone; display-capture; autoplay; fullscreen; clipboard-write';

/** A width or height as given, if it is a plain CSS length; else a 400 naming the field. */
export function cssLength(field: string, value: string | undefined, fallback: string): string {
  const v = value?.trim() || fallback;
  if (!CSS_LENGTH.test(v)) throw new CoreError('invalid', 'must be a CSS length such as 400px or 100%', { field });
  return v;
}

/** The iframe both APIs hand out: every attribute escaped, camera and microphone allowed. */
export function embedIframe(src: string, title: string, width: string, height: string): string {
  return `<iframe src="${escapeHtml(src)}" width="${width}" height="${height}" style="width:${width};height:${height};border:0"`
    + ` allow="${IFRAME_ALLOW}"`
    + ` allowfullscreen webkitallowfullscreen mozallowfullscreen title="${escapeHtml(`Meeting: ${title}`)}"></iframe>`;
}
