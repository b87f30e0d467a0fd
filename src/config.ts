import path from 'node:path';

/** Every setting comes from the environment; `.env.example` lists them with their defaults. */
export interface Config {
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  bootstrapApiKey: string | undefined;
  seedDemo: boolean;
  marketSimulator: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  production: boolean;
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return value === '1' || value.toLowerCase() === 'true';
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  const seedDemo = flag(env.SEED_DEMO, databaseUrl === undefined);
  const level = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new Error(`LOG_LEVEL "${level}" is not one of debug, info, warn, error, silent`);
  return {
    port: int('PORT', env.PORT, 4000),
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || './.data'),
    redisUrl: env.REDIS_URL || undefined,
    bootstrapApiKey: env.BOOTSTRAP_API_KEY || undefined,
    seedDemo,
    marketSimulator: flag(env.MARKET_SIMULATOR, seedDemo),
    logLevel: level,
    maxBodyBytes: int('MAX_BODY_BYTES', env.MAX_BODY_BYTES, 1024 * 1024),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS, 10_000),
    production: env.NODE_ENV === 'production',
  };
}
