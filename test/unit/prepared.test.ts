import { Prisma } from '../../src/generated/prisma/client';
import { preparedStatement, statementName } from '../../src/db/prepared';

describe('statementName', () => {
  const sqlOf = (q: Prisma.Sql) => ({ sql: q.sql });

  test('a marked statement gets a name from its text: the same text, the same name; another text, another', () => {
    const a = statementName(sqlOf(Prisma.sql`${preparedStatement} SELECT 1 WHERE ${1} = ${2}`));
    expect(a).toMatch(/^fg_[A-Za-z0-9_-]+$/);
    expect(a!.length).toBeLessThanOrEqual(63);
    expect(statementName(sqlOf(Prisma.sql`${preparedStatement} SELECT 1 WHERE ${3} = ${4}`))).toBe(a);
    expect(statementName(sqlOf(Prisma.sql`${preparedStatement} SELECT 2 WHERE ${1} = ${2}`))).not.toBe(a);
  });

  test('an unmarked statement stays unnamed', () => {
    expect(statementName(sqlOf(Prisma.sql`SELECT 1 WHERE ${1} = ${2}`))).toBeUndefined();
    expect(statementName(sqlOf(Prisma.sql`SELECT 1 ${preparedStatement}`))).toBeUndefined();
  });
});
