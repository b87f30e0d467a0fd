import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one server; a registry per server so that tests can run several. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'foliograph_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'foliograph_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'foliograph_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: 'foliograph_graphql_operations_total',
      help: 'GraphQL operations by transport, type and outcome',
      labelNames: ['transport', 'type', 'outcome'] as const,
      registers: [registry],
    }),
    wsConnections: new Gauge({
      name: 'foliograph_ws_connections',
      help: 'Open WebSocket connections',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
