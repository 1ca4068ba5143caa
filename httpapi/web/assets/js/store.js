// Shared state of the dashboard: the nodes of the network (polled), the
// best chain as this node sees it (cached, kept in step by the event
// stream), and a bus that tells the views when something changed.

import { api, baseOf } from './api.js';

export const bus = new EventTarget();
export const emit = (type, detail) => bus.dispatchEvent(new CustomEvent(type, { detail }));
export const on = (type, fn) => bus.addEventListener(type, (e) => fn(e.detail));

// Node colours: distinct, readable on white and in the charts.
const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bc4c00', '#0a7c86', '#bf3989', '#6e7781'];

export const state = {
  self: null, // GET /api/v1/node of this node
  nodes: new Map(), // node_id → {id, state, base, reachable, error, color, self, history: [[t, height]]}
  miners: new Map(), // miner address → node name
  blocks: [], // best chain by height: {hash, height, prev, time, miner, txs}
  byHash: new Map(), // hash → block summary, best chain and dropped alike
  dropped: new Set(), // hashes of blocks a reorg dropped
  conflicts: new Map(), // tx id → why a reorg dropped it (lab.js)
  live: 'connecting', // event stream: connecting | live | down
};

const HISTORY_MS = 5 * 60 * 1000;
const INITIAL_BLOCKS = 2000;
const RETRY_MS = 15000; // before asking an unreachable peer again
const UNLISTED_RETRY_MS = 3000; // before asking again a node no longer listed

export function nodeName(id) {
  return state.nodes.get(id)?.state?.name || (id ? id.slice(0, 8) : '');
}

/** A label for an address: a node's name if it is a miner's. */
export function minerName(addr) {
  return state.miners.get(addr) || '';
}

function colorFor(name) {
  const names = [...state.nodes.values()].map((n) => n.state?.name || n.id).sort();
  const i = names.indexOf(name);
  return PALETTE[(i < 0 ? names.length : i) % PALETTE.length];
}

// ---- nodes ------------------------------------------------------------

async function fetchNode(base) {
  return api(base, '/node', { timeout: 3000 });
}

/** Polls this node, its peer list and each peer's own API. */
export async function pollNodes() {
  const now = Date.now();
  const self = await fetchNode('');
  state.self = self;
  const seen = new Set([self.node_id]);
  upsertNode(self.node_id, self, '', true, null, now);
  let peers = [];
  try {
    peers = (await api('', '/peers', { timeout: 3000 })).peers || [];
  } catch (e) {
    console.warn('peers:', e.message);
  }
  await Promise.all(
    peers.map(async (p) => {
      if (seen.has(p.node_id)) return;
      seen.add(p.node_id);
      const base = baseOf(p.url);
      const known = state.nodes.get(p.node_id);
      if (known && !known.reachable && now < known.retryAt) {
        upsertNode(p.node_id, p, base, false, known.error, now);
        return;
      }
      try {
        upsertNode(p.node_id, await fetchNode(base), base, true, null, now);
      } catch (e) {
        // Not reachable from this browser (a host name only the nodes
        // resolve, CORS): show what its presence beat says, and try its
        // own URL again later rather than every second.
        upsertNode(p.node_id, p, base, false, e.message, now);
        state.nodes.get(p.node_id).retryAt = now + RETRY_MS;
      }
    }),
  );
  // A node this one no longer lists (cut off by the fork lab, or gone):
  // ask its own URL, so that an isolated node's branch stays in view.
  await Promise.all([...state.nodes.values()].map(async (n) => {
    if (seen.has(n.id) || !n.base || now < (n.retryAt || 0)) return;
    try {
      upsertNode(n.id, await fetchNode(n.base), n.base, true, null, now);
      seen.add(n.id);
    } catch {
      n.retryAt = now + UNLISTED_RETRY_MS;
    }
  }));
  for (const [id, n] of state.nodes) {
    if (!seen.has(id)) {
      n.gone = true;
      n.history.push([now, null]);
    }
  }
  let recolor = false;
  for (const n of state.nodes.values()) {
    const c = colorFor(n.state.name);
    if (c !== n.color) {
      n.color = c;
      recolor = true;
    }
  }
  emit('nodes', { recolor });
}

function upsertNode(id, st, base, reachable, error, now) {
  let n = state.nodes.get(id);
  if (!n) {
    n = { id, history: [], color: PALETTE[0] };
    state.nodes.set(id, n);
  }
  if (!st.miner_address && n.state?.miner_address) st = { ...st, miner_address: n.state.miner_address };
  Object.assign(n, { state: st, base, reachable, error, gone: false, self: id === state.self?.node_id });
  if (st.miner_address) state.miners.set(st.miner_address, st.name);
  n.history.push([now, st.height]);
  while (n.history.length && n.history[0][0] < now - HISTORY_MS) n.history.shift();
}

// ---- chain ------------------------------------------------------------

function summary(b) {
  const reward = (b.transactions || []).find((t) => t.type === 'reward');
  return {
    hash: b.hash,
    height: b.header.height,
    prev: b.header.prev_hash,
    time: b.header.timestamp,
    miner: reward ? reward.to : '',
    txs: b.transactions || [],
  };
}

let syncing = null;
let syncAgain = false;

/** Brings the cached best chain up to this node's tip. */
export function syncChain() {
  if (syncing) {
    syncAgain = true;
    return syncing;
  }
  syncing = (async () => {
    try {
      do {
        syncAgain = false;
        await syncOnce();
      } while (syncAgain);
    } catch (e) {
      console.warn('chain sync:', e.message);
    } finally {
      syncing = null;
    }
  })();
  return syncing;
}

async function syncOnce() {
  const first = await api('', '/chain?from=0&limit=1');
  const height = first.height;
  const have = state.blocks.length;
  let from;
  if (have === 0) {
    from = Math.max(0, height - INITIAL_BLOCKS + 1);
  } else {
    // Re-read a few blocks under our top to notice a switch of branch.
    from = Math.max(firstHeight(), have - 1 - 6);
  }
  let changed = false;
  for (;;) {
    const page = await api('', `/chain?from=${from}&limit=500`);
    const blocks = page.blocks || [];
    if (blocks.length && state.blocks.length && from > firstHeight()) {
      const b0 = blocks[0];
      const mine = state.blocks[b0.header.height];
      if (mine && mine.hash !== b0.hash) {
        // Deeper switch than we looked: start again further down.
        from = Math.max(firstHeight(), from - 100);
        continue;
      }
    }
    for (const b of blocks) {
      const sm = summary(b);
      const old = state.blocks[sm.height];
      if (old && old.hash === sm.hash) continue;
      if (old) state.dropped.add(old.hash);
      state.blocks[sm.height] = sm;
      state.byHash.set(sm.hash, sm);
      state.dropped.delete(sm.hash);
      changed = true;
    }
    if (page.next == null || blocks.length === 0) {
      if (state.blocks.length > page.height + 1) {
        for (const b of state.blocks.slice(page.height + 1)) if (b) state.dropped.add(b.hash);
        state.blocks.length = page.height + 1;
        changed = true;
      }
      break;
    }
    from = page.next;
  }
  if (changed) emit('chain');
}

function firstHeight() {
  for (let i = 0; i < state.blocks.length; i++) if (state.blocks[i]) return i;
  return 0;
}

/** Blocks won per miner address on the cached best chain (genesis excluded). */
export function blocksWon() {
  const won = new Map();
  for (const b of state.blocks) {
    if (!b || b.height === 0 || !b.miner) continue;
    won.set(b.miner, (won.get(b.miner) || 0) + 1);
  }
  return won;
}

/** The cached span of the best chain: [first height, tip]. */
export function cachedSpan() {
  return [firstHeight(), state.blocks.length - 1];
}

// ---- event stream -------------------------------------------------------

export function connectEvents() {
  const es = new EventSource('/api/v1/events');
  const setLive = (v) => {
    if (state.live !== v) {
      state.live = v;
      emit('live', v);
    }
  };
  es.onopen = () => setLive('live');
  es.onerror = () => setLive(es.readyState === EventSource.CLOSED ? 'down' : 'connecting');
  for (const kind of ['tx', 'block', 'side-block', 'reorg', 'peer-up', 'peer-down', 'isolated', 'healed']) {
    es.addEventListener(kind, (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch {
        return;
      }
      ev.kind = ev.kind || kind;
      ev.at = Date.now();
      if (kind === 'reorg') for (const h of ev.dropped || []) state.dropped.add(h);
      emit('event', ev);
      if (kind === 'block' || kind === 'reorg') syncChain();
    });
  }
  return es;
}
