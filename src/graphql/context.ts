import DataLoader from 'dataloader';
import type { Fill, User } from '../generated/prisma/client';
import type { Db } from '../services/db';
import type { ServiceContext, Services } from '../services';
import { valuationLoaders } from './loaders/valuation';
import { deliveriesOf, type DeliveryRow } from '../services/webhooks';
import { fillsOf } from '../services/trading';
import type { Realtime } from '../realtime';

/** Batches per request; made fresh for every HTTP request and every subscription event. */
export function createLoaders(db: Db) {
  return {
    user: new DataLoader<string, User | null>(async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    valuation: valuationLoaders(),
    /** AlertEvent.deliveries: one query per list of events. */
    alertDeliveries: new DataLoader<string, DeliveryRow[]>((ids) => deliveriesOf(db, ids)),
    /** Order.fills: one query per list of orders. */
    fills: new DataLoader<string, Fill[]>((ids) => fillsOf(db, ids)),
  };
}

export interface GraphQLContext {
  services: Services;
  /** Who is asking and from where: what every service call receives. */
  request: ServiceContext;
  loaders: ReturnType<typeof createLoaders>;
  /** The live engines; set on graphql-ws operations only. */
  realtime?: Realtime;
}
