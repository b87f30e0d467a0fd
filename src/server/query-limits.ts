import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { costRefusal, type QueryLimits } from '../graphql/limits';

/**
 * The cost limit on HTTP: it needs the variables (`first: $n`), which validation rules do
 * not see, so it runs once the operation is resolved and before it executes.
 */
export function queryCostPlugin(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          const refused = costRefusal(schema, document, request.variables, operationName ?? request.operationName, limits);
          if (refused) {
            Object.assign(refused.extensions, { http: { status: 400, headers: new HeaderMap() } });
            throw refused;
          }
        },
      };
    },
  };
}
