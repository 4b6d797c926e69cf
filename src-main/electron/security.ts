// Fixed security settings of the window, in one place so a review reads them at once.

/**
 * The renderer loads only its own bundled files and talks to main only over IPC: nothing
 * remote, no inline script, no eval, no frames, no forms, no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The renderer is served from app://renderer/ by our own protocol handler, so every response,
 * the document included, carries the CSP above as a header (file:// loads get no headers).
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'renderer';
export const RENDERER_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Permissions the renderer may use: only writing to the clipboard (the Copy buttons). */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

