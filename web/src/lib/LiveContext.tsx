// The tab's live connection as the screens use it: one socket while someone is signed in,
// frames handed to whoever listens, the connection's state for the banner, and a count of
// `resync`s that screens reload on. The tab tells the server whether it is in use (presence).

import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Live, type ClientFrame, type LiveState, type ServerFrame } from './live';

type Listener = (frame: ServerFrame) => void;

export interface LiveHandle {
  state: LiveState;
  /** Whether this tab has been live at all (no banner before the first connection). */
  wasLive: boolean;
  /** Goes up on every `resync`: what is shown may have missed events. */
  resyncs: number;
  listen: (listener: Listener) => () => void;
  send: (frame: ClientFrame) => void;
}

const NOTHING: LiveHandle = {
  state: 'offline',
  wasLive: false,
  resyncs: 0,
  listen: () => () => undefined,
  send: () => undefined,
};

export const LiveContext = createContext<LiveHandle>(NOTHING);

/** No key or pointer activity for this long: away. */
const IDLE_MS = 5 * 60_000;

/** Keeps the socket of `personId` (none: no socket); `onSignedOut` when the server ends the
 *  session (close 4001). */
export function LiveProvider({
  personId,
  onSignedOut,
  children,
}: {
  personId: string | null;
  onSignedOut: () => void;
  children: ComponentChildren;
}) {
  const listeners = useRef(new Set<Listener>());
  const live = useRef<Live | null>(null);
  const [state, setState] = useState<LiveState>('offline');
  const [wasLive, setWasLive] = useState(false);
  const [resyncs, setResyncs] = useState(0);
  const signedOut = useRef(onSignedOut);
  signedOut.current = onSignedOut;

  useEffect(() => {
    if (personId === null) return;
    const connection = new Live({
      onFrame: (frame) => {
        for (const listener of [...listeners.current]) listener(frame);
      },
      onResync: () => setResyncs((count) => count + 1),
      onState: (next) => {
        setState(next);
        if (next === 'live') {
          setWasLive(true);
          connection.send({ type: 'presence', state: tabState() });
        }
        if (next === 'signed-out') signedOut.current();
      },
    });
    live.current = connection;
    connection.start();
    let lastActive = Date.now();
    let away = false;
    const report = (nowAway: boolean) => {
      if (nowAway === away) return;
      away = nowAway;
      connection.send({ type: 'presence', state: nowAway ? 'away' : 'online' });
    };
    const active = () => {
      lastActive = Date.now();
      if (document.visibilityState === 'visible') report(false);
    };
    const visibility = () => report(document.visibilityState !== 'visible');
    const idle = setInterval(() => {
      if (Date.now() - lastActive >= IDLE_MS) report(true);
    }, 30_000);
    document.addEventListener('visibilitychange', visibility);
    window.addEventListener('keydown', active);
    window.addEventListener('pointerdown', active);
    return () => {
      clearInterval(idle);
      document.removeEventListener('visibilitychange', visibility);
      window.removeEventListener('keydown', active);
      window.removeEventListener('pointerdown', active);
      connection.stop();
      live.current = null;
      setState('offline');
      setWasLive(false);
    };
  }, [personId]);

  const stable = useMemo(
    () => ({
      listen: (listener: Listener) => {
        listeners.current.add(listener);
        return () => {
          listeners.current.delete(listener);
        };
      },
      send: (frame: ClientFrame) => live.current?.send(frame),
    }),
    [],
  );
  const handle = useMemo<LiveHandle>(() => ({ ...stable, state, wasLive, resyncs }), [stable, state, wasLive, resyncs]);
  return <LiveContext.Provider value={handle}>{children}</LiveContext.Provider>;
}

function tabState(): 'online' | 'away' {
  return document.visibilityState === 'visible' ? 'online' : 'away';
}

export function useLive(): LiveHandle {
  return useContext(LiveContext);
}

/** Calls `handler` with every frame while the component is shown (the latest `handler`). */
export function useLiveFrames(handler: Listener): void {
  const { listen } = useLive();
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => listen((frame) => latest.current(frame)), [listen]);
}

/** Calls `reload` after each `resync` (not on the first render). */
export function useOnResync(reload: () => void): void {
  const { resyncs } = useLive();
  const first = useRef(resyncs);
  useEffect(() => {
    if (resyncs !== first.current) reload();
  }, [resyncs]);
}
