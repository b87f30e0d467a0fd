import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm' with { 'resolution-mode': 'import' };

/*
 * Prisma's schema engine compiled to WebAssembly: the CLI's native binary cannot be
 * downloaded on our build machines (../shared/notes/prisma-offline.md). The package's
 * entry imports a .wasm file, which Node 20 cannot import, so the glue module is
 * loaded by path and the wasm instantiated by hand, once per process.
 */
type Bindgen = { SchemaEngine: typeof SchemaEngine; __wbg_set_wasm(exports: unknown): void };
// @types/node 20 does not declare the WebAssembly global; this is the part used here.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let loading: Promise<typeof SchemaEngine> | undefined;

function loadEngineClass(): Promise<typeof SchemaEngine> {
  loading ??= (async () => {
    const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm'));
    const bg = (await import(pathToFileURL(path.join(dir, 'schema_engine_bg.js')).href)) as Bindgen;
    const bytes = await readFile(path.join(dir, 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg.SchemaEngine;
  })();
  return loading;
}

export interface EngineLog {
  (message: string): void;
}

export interface OpenEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes its connections (and with them any advisory lock it took). */
  close(): Promise<void>;
}

export async function openSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  datamodel: { path: string; content: string },
  log: EngineLog = () => undefined,
): Promise<OpenEngine> {
  const Engine = await loadEngineClass();
  const opened: SqlDriverAdapter[] = [];
  const track = async (connect: Promise<SqlDriverAdapter>) => {
    const adapter = await connect;
    opened.push(adapter);
    return adapter;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: adapterFactory.provider,
    adapterName: adapterFactory.adapterName,
    connect: () => track(adapterFactory.connect()),
    connectToShadowDb: () => track(adapterFactory.connectToShadowDb()),
  };
  const engine = await Engine.new({ datamodels: [[datamodel.path, datamodel.content]] }, log, bindMigrationAwareSqlAdapterFactory(tracked));
  return {
    engine,
    close: async () => {
      engine.free();
      await Promise.all(opened.map((a) => a.dispose()));
    },
  };
}
