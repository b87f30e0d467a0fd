// The dashboard's typed operations: GraphQL Code Generator's client preset turns each
// graphql() call into a typed document (web/src/gql, generated at install).
import { graphql } from '../gql';

export const MeQuery = graphql(`
  query DashboardMe {
    me {
      email
      name
      role
    }
  }
`);

export const PortfolioListQuery = graphql(`
  query DashboardPortfolios {
    portfolios(first: 100) {
      nodes {
        id
        name
        baseCurrency
      }
    }
  }
`);

export const OverviewQuery = graphql(`
  query DashboardOverview($id: ID!) {
    portfolio(id: $id) {
      id
      name
      baseCurrency
      valuation {
        asOf
        nav
        cashValue
        positionsValue
        complete
        stale
        holdings {
          symbol
          name
          quantity
          price
          currency
          marketValueBase
          unrealizedPnlBase
          weight
          pricingStatus
        }
      }
      exposure {
        gross
        net
        bySector {
          key
          net
          weight
        }
        byCurrency {
          key
          net
          weight
        }
      }
      newOrders: orders(status: NEW, first: 50) {
        nodes {
          ...OpenOrder
        }
      }
      partialOrders: orders(status: PARTIALLY_FILLED, first: 50) {
        nodes {
          ...OpenOrder
        }
      }
    }
  }

  fragment OpenOrder on Order {
    id
    symbol
    side
    type
    quantity
    limitPrice
    stopPrice
    status
    filledQty
    createdAt
  }
`);

export const NavQuery = graphql(`
  query DashboardNav($id: ID!) {
    portfolio(id: $id) {
      valuation {
        asOf
        nav
      }
    }
  }
`);

export const NavHistoryQuery = graphql(`
  query DashboardNavHistory($id: ID!, $from: Date!, $to: Date!) {
    portfolio(id: $id) {
      navHistory(from: $from, to: $to) {
        date
        nav
        netFlow
      }
    }
  }
`);

// Live updates over graphql-ws.

export const NavUpdatedSubscription = graphql(`
  subscription DashboardNavUpdated($id: ID!) {
    navUpdated(portfolioId: $id) {
      nav
      previousNav
      change
      changePct
      asOf
      seq
    }
  }
`);

export const OrderUpdatedSubscription = graphql(`
  subscription DashboardOrderUpdated($id: ID!) {
    orderUpdated(portfolioId: $id) {
      id
      status
    }
  }
`);

export const AlertEventsQuery = graphql(`
  query DashboardAlertEvents($id: ID!) {
    portfolio(id: $id) {
      # Oldest first: the feed shows the newest of these.
      alertEvents(first: 500) {
        nodes {
          ...AlertItem
        }
      }
    }
  }

  fragment AlertItem on AlertEvent {
    id
    type
    value
    message
    triggeredAt
    acknowledgedAt
  }
`);

export const AlertTriggeredSubscription = graphql(`
  subscription DashboardAlertTriggered($id: ID) {
    alertTriggered(portfolioId: $id) {
      ...AlertItem
    }
  }
`);

export const AcknowledgeAlertMutation = graphql(`
  mutation DashboardAcknowledgeAlert($id: ID!) {
    acknowledgeAlert(id: $id) {
      ...AlertItem
    }
  }
`);
