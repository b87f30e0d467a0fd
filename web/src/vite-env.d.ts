/// <reference types="vite/client" />

declare module 'virtual:ide-examples' {
  const examples: { name: string; query: string; variables: string }[];
  export default examples;
}

declare module 'virtual:ide-schema' {
  const introspection: import('graphql').IntrospectionQuery;
  export default introspection;
}
