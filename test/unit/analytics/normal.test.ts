import { dec } from '../../../src/domain/decimal';
import { DomainError } from '../../../src/domain/errors';
import { inverseNormalCdf, normalCdf } from '../../../src/domain/analytics/normal';
import { expectClose } from './helpers';

/*
 * Reference values: √2 · erfinv(2p − 1) and ncdf from mpmath at 50 digits.
 * The textbook table values are z(0.95) = 1.645, z(0.975) = 1.960, z(0.99) = 2.326, Φ(1.96) = 0.9750.
 */
describe('inverseNormalCdf (Acklam + Halley refinement)', () => {
  it.each([
    ['0.95', '1.6448536269514727148638489079916321360831957'],
    ['0.975', '1.9599639845400542355245944305205515279555501'],
    ['0.99', '2.3263478740408411008856061633469117233518171'],
    ['0.999', '3.0902323061678135415403998301073792054910085'],
    ['0.6', '0.2533471031357997987981961814242439387872107'],
    ['0.05', '-1.6448536269514727148638489079916321360831957'],
    ['0.0001', '-3.7190164854556805643936606245084783046173197'], // Acklam's lower tail region
    ['0.9999999', '5.1993375821928169315873472669623368665097372'], // upper tail region
  ])('Φ⁻¹(%s) = %s', (p, z) => {
    expectClose(inverseNormalCdf(dec(p)), z, '1e-30');
  });

  it('is 0 at the median and rejects p outside (0, 1)', () => {
    expect(inverseNormalCdf(dec('0.5')).isZero()).toBe(true);
    expect(() => inverseNormalCdf(dec(0))).toThrow(DomainError);
    expect(() => inverseNormalCdf(dec(1))).toThrow(DomainError);
  });
});

describe('normalCdf', () => {
  it('Φ(1.96) = 0.975002104851779565863415730959162809977500', () => {
    expectClose(normalCdf(dec('1.96')), '0.975002104851779565863415730959162809977500', '1e-36');
  });
  it('Φ(−3) = 0.00134989803163009452665181476759497737782937', () => {
    expectClose(normalCdf(dec(-3)), '0.00134989803163009452665181476759497737782937', '1e-36');
  });
});
