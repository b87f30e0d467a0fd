/** The API key a person pastes once; the IDE and the dashboard share it through localStorage. */
const STORAGE_KEY = 'foliograph.apiKey';

export function loadKey(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveKey(key: string): void {
  try {
    if (key) localStorage.setItem(STORAGE_KEY, key);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode without storage: the key lives for this page only.
  }
}

export const httpUrl = (): string => new URL('/graphql', location.href).toString();
export const wsUrl = (): string => httpUrl().replace(/^http/, 'ws');
export const bearer = (key: string): string => (key ? `Bearer ${key}` : '');
