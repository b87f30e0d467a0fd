// GraphiQL 5 bundled by Vite: Monaco's workers come from the bundle ("setup-workers/vite"),
// never from a CDN, so the IDE works on a machine without internet.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './ide.css';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher, type Storage } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import examples from 'virtual:ide-examples';
import bundledSchema from 'virtual:ide-schema';
import { bearer, httpUrl, loadKey, saveKey, wsUrl } from '../shared/key';

const explorer = explorerPlugin();

const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/** The example tabs, with their placeholders filled: the first portfolio's id and a one-year window. */
function exampleTabs(portfolioId: string, key: string) {
  const today = new Date();
  const yearAgo = new Date(today.getTime() - 365 * 86_400_000);
  const fill = (s: string) => s.replaceAll('PORTFOLIO_ID', portfolioId).replaceAll('ONE_YEAR_AGO', isoDate(yearAgo)).replaceAll('TODAY', isoDate(today));
  const headers = key ? JSON.stringify({ Authorization: bearer(key) }, null, 2) : '';
  return examples.map((e) => ({ query: e.query, variables: e.variables ? JSON.stringify(JSON.parse(fill(e.variables)), null, 2) : undefined, headers }));
}

async function post<T>(key: string, query: string): Promise<{ data?: T; errors?: { message: string }[] }> {
  try {
    const res = await fetch(httpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: bearer(key) } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: T; errors?: { message: string }[] };
  } catch (err) {
    return { errors: [{ message: (err as Error).message }] };
  }
}

async function firstPortfolioId(key: string): Promise<string> {
  if (!key) return 'PORTFOLIO_ID';
  const body = await post<{ portfolios?: { nodes?: { id: string }[] } }>(key, '{ portfolios(first: 1) { nodes { id } } }');
  return body.data?.portfolios?.nodes?.[0]?.id ?? 'PORTFOLIO_ID';
}

/**
 * GraphiQL's storage: localStorage, with the PORTFOLIO_ID placeholder filled in as it is read.
 * Tabs saved before a key was given still say PORTFOLIO_ID, and the keyless IDE's debounced
 * save may land after the key arrived; filling on read keeps whatever else the user changed.
 */
function placeholderFillingStorage(portfolioId: string): Storage {
  const fill = (v: string | null) => (v !== null && portfolioId !== 'PORTFOLIO_ID' ? v.replaceAll('PORTFOLIO_ID', portfolioId) : v);
  return {
    getItem: (k) => fill(localStorage.getItem(k)),
    setItem: (k, v) => localStorage.setItem(k, v),
    removeItem: (k) => localStorage.removeItem(k),
    clear: () => {
      for (const k of Object.keys(localStorage)) if (k.startsWith('graphiql:')) localStorage.removeItem(k);
    },
    get length() {
      return Object.keys(localStorage).filter((k) => k.startsWith('graphiql:')).length;
    },
  };
}

/** The server's own schema when it answers introspection; schema.graphql as bundled otherwise. */
async function loadSchema(key: string): Promise<{ schema: IntrospectionQuery; note: string }> {
  const body = await post<IntrospectionQuery>(key, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
  if (body.data?.__schema) return { schema: body.data, note: '' };
  return { schema: bundledSchema, note: `Docs from the bundled schema.graphql: the server refused introspection (${body.errors?.[0]?.message ?? 'no answer'}).` };
}

function KeyBar({ apiKey, onSave }: { apiKey: string; onSave(key: string): void }) {
  const [draft, setDraft] = useState(apiKey);
  return (
    <form
      className="fg-keybar"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(draft.trim());
      }}
    >
      <strong>Foliograph GraphiQL</strong>
      <label>
        API key
        <input
          name="apiKey"
          type="password"
          autoComplete="off"
          placeholder="fg_… (npm start prints the demo key)"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
      </label>
      <button type="submit">Save key</button>
      <span className={apiKey ? 'fg-ok' : 'fg-warn'}>
        {apiKey ? 'Sent as Authorization header and graphql-ws connectionParams' : 'No key: every operation is refused'}
      </span>
      <a href="/">Dashboard</a>
    </form>
  );
}

function Ide() {
  const [apiKey, setApiKey] = useState(loadKey);
  const [ready, setReady] = useState<{ portfolioId: string; schema: IntrospectionQuery; note: string } | null>(null);

  useEffect(() => {
    let live = true;
    setReady(null);
    void Promise.all([firstPortfolioId(apiKey), loadSchema(apiKey)]).then(([portfolioId, { schema, note }]) => {
      if (!live) return;
      setReady({ portfolioId, schema, note });
    });
    return () => {
      live = false;
    };
  }, [apiKey]);

  const portfolioId = ready?.portfolioId ?? 'PORTFOLIO_ID';
  const storage = useMemo(() => placeholderFillingStorage(portfolioId), [portfolioId]);

  const fetcher = useMemo(() => {
    const authorization = bearer(apiKey);
    return createGraphiQLFetcher({
      url: httpUrl(),
      headers: authorization ? { Authorization: authorization } : {},
      wsClient: createClient({
        url: wsUrl(),
        lazy: true,
        retryAttempts: 5,
        connectionParams: authorization ? { authorization } : {},
      }),
    });
  }, [apiKey]);

  return (
    <div className="fg-ide">
      <KeyBar
        apiKey={apiKey}
        onSave={(key) => {
          saveKey(key);
          setApiKey(key);
        }}
      />
      {ready?.note && <p className="fg-note">{ready.note}</p>}
      <div className="fg-graphiql">
        {ready === null ? (
          <p className="fg-loading">Loading…</p>
        ) : (
          <GraphiQL
            key={apiKey}
            fetcher={fetcher}
            schema={ready.schema}
            plugins={[explorer]}
            defaultTabs={exampleTabs(ready.portfolioId, apiKey)}
            defaultEditorToolsVisibility="variables"
            shouldPersistHeaders={false}
            storage={storage}
          />
        )}
      </div>
    </div>
  );
}

createRoot(document.getElementById('ide')!).render(
  <StrictMode>
    <Ide />
  </StrictMode>,
);
