// Generates what is not committed: the Prisma client and the GraphQL resolver types.
// Runs from `postinstall`, so `npm install` / `npm ci` leave a runnable tree.
// Prisma's CLI would first download a native schema engine that generation does not use;
// naming any existing file in PRISMA_SCHEMA_ENGINE_BINARY skips that download
// (../shared/notes/prisma-offline.md).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };

execFileSync(bin('prisma'), ['generate'], { cwd: root, env, stdio: 'inherit' });
execFileSync(bin('graphql-codegen'), ['--config', 'codegen.ts'], { cwd: root, env, stdio: 'inherit' });
// The browser surfaces (web/: the dashboard and the GraphiQL IDE) bundled by Vite from npm packages
// into dist-web/, which the server serves: no CDN, nothing downloaded at run time.
execFileSync(bin('vite'), ['build', '--config', 'web/vite.config.mts'], { cwd: root, env, stdio: 'inherit' });
