import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Person } from './api/client';

export interface Session {
  /** Who is signed in; null when nobody is. */
  person: Person | null;
  signedIn: (person: Person) => void;
  signOut: (reason?: 'expired' | 'logout') => Promise<void>;
}

export const SessionContext = createContext<Session>({
  person: null,
  signedIn: () => undefined,
  signOut: async () => undefined,
});

export function useSession(): Session {
  return useContext(SessionContext);
}
