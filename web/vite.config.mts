// Builds the browser surfaces into ../dist-web at install time (scripts/generate.js):
// the GraphiQL IDE (graphiql.html, served at GET /graphql for browsers) and the dashboard
// (index.html, served at GET /). Everything is bundled from npm packages: no CDN at run time.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, introspectionFromSchema, parse, validate } from 'graphql';
import { defineConfig, type Plugin } from 'vite';

const web = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(web, '..');

/**
 * `virtual:ide-examples`: the example operations in src/ide/examples/*.graphql that are valid
 * against schema.graphql as it is at build time. An example naming a field the schema does not
 * have yet (features land concurrently) is left out with a warning instead of failing the build.
 */
function ideExamples(): Plugin {
  const id = 'virtual:ide-examples';
  const dir = path.join(web, 'src/ide/examples');
  return {
    name: 'foliograph-ide-examples',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(resolved) {
      if (resolved !== `\0${id}`) return null;
      const schema = buildSchema(readFileSync(path.join(root, 'schema.graphql'), 'utf8'));
      const examples: { name: string; query: string; variables: string }[] = [];
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()) {
        this.addWatchFile(path.join(dir, file));
        const text = readFileSync(path.join(dir, file), 'utf8');
        const document = parse(text);
        // graphql 16's validation does not check that the schema has the operation's root type.
        const missingRoot = document.definitions.find((d) => d.kind === 'OperationDefinition' && !schema.getRootType(d.operation));
        const errors = missingRoot ? [{ message: `the schema has no ${(missingRoot as { operation: string }).operation} type` }] : validate(schema, document);
        if (errors.length) {
          this.warn(`IDE example ${file} left out: ${errors[0]!.message}`);
          continue;
        }
        // A leading "# variables: {...}" line gives the tab's variables.
        const variables = /^# variables: (.*)$/m.exec(text)?.[1] ?? '';
        examples.push({ name: file.replace(/^\d+-|\.graphql$/g, ''), query: text.replace(/^# variables: .*\n/m, ''), variables });
      }
      return `export default ${JSON.stringify(examples)};`;
    },
  };
}

/**
 * `virtual:ide-schema`: schema.graphql's introspection, for the IDE's docs and completion when
 * the server refuses the introspection query (introspection off, or a query cost limit).
 */
function ideSchema(): Plugin {
  const id = 'virtual:ide-schema';
  return {
    name: 'foliograph-ide-schema',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(resolved) {
      if (resolved !== `\0${id}`) return null;
      const file = path.join(root, 'schema.graphql');
      this.addWatchFile(file);
      return `export default ${JSON.stringify(introspectionFromSchema(buildSchema(readFileSync(file, 'utf8'))))};`;
    },
  };
}

export default defineConfig({
  root: web,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  plugins: [ideExamples(), ideSchema()],
  oxc: { jsx: { runtime: 'automatic' } },
  worker: { format: 'es' },
  build: {
    outDir: path.join(root, 'dist-web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    reportCompressedSize: false,
    rolldownOptions: {
      input: { dashboard: path.join(web, 'index.html'), ide: path.join(web, 'graphiql.html') },
      // Libraries' "use client" directives mean nothing in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
