import { loadConfig } from '../../src/config';

/* The paper broker and the DAY-order clock as configured (README, Configuration). */
describe('trading configuration', () => {
  const pg = 'postgresql://owner@127.0.0.1:5432/foliograph';

  test('the paper broker is on with the demo data (embedded default), off on PostgreSQL, and PAPER_BROKER overrides both', () => {
    expect(loadConfig({})).toMatchObject({ seedDemo: true, paperBroker: true });
    expect(loadConfig({ DATABASE_URL: pg })).toMatchObject({ seedDemo: false, paperBroker: false });
    expect(loadConfig({ DATABASE_URL: pg, SEED_DEMO: '1' })).toMatchObject({ paperBroker: true });
    expect(loadConfig({ PAPER_BROKER: '0' })).toMatchObject({ seedDemo: true, paperBroker: false });
    expect(loadConfig({ DATABASE_URL: pg, PAPER_BROKER: '1' })).toMatchObject({ paperBroker: true });
  });

  test('DAY orders end at the end of the UTC day unless ORDER_DAY_TIMEZONE and ORDER_DAY_CLOSE say otherwise', () => {
    expect(loadConfig({}).orderDayClose).toEqual({ timeZone: 'UTC', minutes: 1440 });
    expect(loadConfig({ ORDER_DAY_TIMEZONE: 'America/New_York', ORDER_DAY_CLOSE: '16:00' }).orderDayClose).toEqual({ timeZone: 'America/New_York', minutes: 960 });
    expect(() => loadConfig({ ORDER_DAY_CLOSE: '25:00' })).toThrow(/ORDER_DAY_CLOSE/);
  });
});
