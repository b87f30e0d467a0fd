import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';

/** Where `npm install` (scripts/generate.js → Vite, web/vite.config.ts) puts the browser assets. */
export const WEB_DIST = path.resolve(__dirname, '../../dist-web');

// Everything the pages load comes from this origin: the bundles, Monaco's workers, the API and
// its WebSocket. Monaco and React set inline styles, and Monaco's fonts are data: URLs.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function sendPage(res: Response, dir: string, file: string): void {
  const page = path.join(dir, file);
  if (!existsSync(page)) {
    res
      .status(503)
      .type('text/plain')
      .send(`The web assets are not built (${path.relative(process.cwd(), page)} is missing): run \`npm run generate\`, which \`npm install\` runs too.\n`);
    return;
  }
  res.set({ 'cache-control': 'no-cache', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  res.sendFile(page);
}

/** A browser asking for /graphql itself: a GET that prefers HTML and carries no operation. */
function wantsIde(req: Request): boolean {
  return req.query.query === undefined && req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * The browser surfaces, mounted before the GraphQL middleware: the dashboard at GET /, the
 * GraphiQL IDE at GET /graphql for browsers (API clients keep POST, GET with a query, and
 * graphql-ws on the same path), and the hashed bundles under /assets.
 */
export function mountWeb(app: Express, { ideEnabled, dir = WEB_DIST }: { ideEnabled: boolean; dir?: string }): void {
  app.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, redirect: false }));
  app.get('/', (_req, res) => sendPage(res, dir, 'index.html'));
  app.get('/graphql', (req, res, next) => {
    if (!wantsIde(req)) return next();
    if (!ideEnabled) {
      res.status(404).type('text/plain').send('The GraphQL IDE is disabled on this server (IDE_ENABLED=0).\n');
      return;
    }
    sendPage(res, dir, 'graphiql.html');
  });
}
