import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';

/**
 * The API reference at /docs in Parley's own name and colours (the room's palette), instead of the
 * framework's default logo and title.
 */

// Two speech bubbles and the name; text as paths would need a font file, so the name is <text>
// in a system font stack.
const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="132" height="32" viewBox="0 0 132 32" role="img" aria-label="Parley">
<rect x="1" y="3" width="20" height="15" rx="5" fill="#4d8dff"/><path d="M6 18 l0 6 l6 -6z" fill="#4d8dff"/>
<rect x="11" y="11" width="20" height="15" rx="5" fill="#3ed598"/><path d="M26 26 l0 5 l-6 -5z" fill="#3ed598"/>
<text x="40" y="23" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="20" font-weight="650" fill="#eceef2">Parley</text>
</svg>`;

const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect x="1" y="3" width="20" height="15" rx="5" fill="#4d8dff"/><rect x="11" y="11" width="20" height="15" rx="5" fill="#3ed598"/></svg>`;

const CSS = `
.swagger-ui .topbar { background: #101216; border-bottom: 1px solid #363b47; padding: 8px 0; }
.swagger-ui .topbar .download-url-wrapper { display: none; }
.swagger-ui .topbar-wrapper img { height: 32px; }
.swagger-ui .info .title { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.swagger-ui .btn.authorize { color: #27436f; border-color: #4d8dff; }
.swagger-ui .btn.authorize svg { fill: #4d8dff; }
.swagger-ui :focus-visible { outline: 3px solid #9cc2ff; outline-offset: 2px; }
`;

export const DOCS_THEME: Pick<FastifySwaggerUiOptions, 'logo' | 'theme'> = {
  logo: { type: 'image/svg+xml', content: Buffer.from(LOGO_SVG), href: '/docs', target: '_self' },
  theme: {
    title: 'Parley API reference',
    css: [{ filename: 'parley.css', content: CSS }],
    favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: Buffer.from(FAVICON_SVG) }],
  },
};
