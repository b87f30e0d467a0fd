// Operations of the live-updates feature (navUpdated, orderUpdated, alerts). They are plain
// strings, outside the typed documents, so the dashboard builds against a schema that does not
// have them yet: when the server refuses one (validation error), the dashboard falls back to
// polling or hides that panel. Move them into operations.ts once schema.graphql has them all.

export interface NavUpdate {
  nav: string;
  previousNav: string | null;
  change: string | null;
  changePct: string | null;
  asOf: string;
  seq: number;
}

export const NAV_UPDATED = `subscription DashboardNavUpdated($id: ID!) {
  navUpdated(portfolioId: $id) { nav previousNav change changePct asOf seq }
}`;

export const ORDER_UPDATED = `subscription DashboardOrderUpdated($id: ID!) {
  orderUpdated(portfolioId: $id) { id status }
}`;

export interface AlertEvent {
  id: string;
  type: string;
  value: string;
  message: string;
  triggeredAt: string;
  acknowledgedAt: string | null;
}

const ALERT_FIELDS = 'id type value message triggeredAt acknowledgedAt';

export const ALERT_EVENTS = `query DashboardAlertEvents($id: ID!) {
  portfolio(id: $id) { alertEvents(first: 20) { nodes { ${ALERT_FIELDS} } } }
}`;

export const ALERT_TRIGGERED = `subscription DashboardAlertTriggered($id: ID) {
  alertTriggered(portfolioId: $id) { ${ALERT_FIELDS} }
}`;

export const ACKNOWLEDGE_ALERT = `mutation DashboardAcknowledgeAlert($id: ID!) {
  acknowledgeAlert(id: $id) { ${ALERT_FIELDS} }
}`;
