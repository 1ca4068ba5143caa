// Network view: a card per node with its controls, and the two charts.

import { api } from './api.js';
import { barChart, lineChart } from './charts.js';
import { $, fmtInt, h, replace, shortHash } from './dom.js';
import { labControls } from './lab.js';
import { blocksWon, cachedSpan, on, pollNodes, state } from './store.js';

const cards = new Map(); // node id → {el, refs}

export function initNetwork() {
  on('nodes', render);
  on('chain', renderWon);
}

function nodeCard(n) {
  const id = `node-${n.id}`;
  const refs = {};
  const stat = (key, label, cls = '') =>
    h('div', null, h('dt', null, label), (refs[key] = h('dd', { class: cls, dataset: { field: key } })));
  refs.name = h('h2', { id: `${id}-name` });
  refs.self = h('span', { class: 'tag self', hidden: true }, 'this node');
  refs.mining = h('span', { class: 'tag', dataset: { field: 'mining' } });
  refs.url = h('a', { class: 'url mono' });
  refs.toggle = h('button', { type: 'button', class: 'btn toggle' });
  refs.pause = h('input', { id: `${id}-pause`, type: 'number', min: '0', step: 'any', inputmode: 'decimal' });
  refs.setPause = h('button', { type: 'submit', class: 'btn' }, 'Set');
  refs.error = h('p', { class: 'error', role: 'alert' });
  refs.lab = labControls(n.id, () => cards.get(n.id).base); // the fork lab's cut and heal
  const pauseForm = h('form', { class: 'pause-form', novalidate: true },
    h('div', null, h('label', { for: refs.pause.id }, 'Pause (s)'), refs.pause), refs.setPause);
  const el = h('article', { class: 'node card', 'aria-labelledby': refs.name.id, dataset: { nodeId: n.id } },
    h('header', null, h('span', { class: 'dot', 'aria-hidden': 'true' }), refs.name, refs.self, refs.mining),
    refs.url,
    h('dl', { class: 'stats' },
      stat('height', 'Height', 'big'), stat('mined', 'Blocks mined', 'big'), stat('pauseShown', 'Pause'),
      stat('tip', 'Tip', 'mono'), stat('mempool', 'Mempool'), stat('peers', 'Peers'),
      stat('difficulty', 'Difficulty'), stat('hashrate', 'Hash rate')),
    h('div', { class: 'controls' }, refs.toggle, pauseForm),
    refs.lab.el,
    refs.error);

  refs.toggle.addEventListener('click', () =>
    control(n.id, refs, () => api(cards.get(n.id).base, state.nodes.get(n.id).state.mining ? '/miner/stop' : '/miner/start', { method: 'POST' })));
  pauseForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = Number(refs.pause.value);
    if (refs.pause.value.trim() === '' || !Number.isFinite(v) || v < 0) {
      refs.error.textContent = 'The pause is a number of seconds, 0 or more.';
      refs.pause.setAttribute('aria-invalid', 'true');
      return;
    }
    refs.pause.removeAttribute('aria-invalid');
    control(n.id, refs, () => api(cards.get(n.id).base, '/miner/pause', { method: 'PUT', body: { pause: v } }), () => delete refs.pause.dataset.dirty);
  });
  refs.pause.addEventListener('input', () => (refs.pause.dataset.dirty = '1'));
  return { el, refs, base: n.base };
}

async function control(id, refs, call, after) {
  refs.toggle.disabled = refs.setPause.disabled = true;
  refs.error.textContent = '';
  try {
    const m = await call();
    const n = state.nodes.get(id);
    if (n && m) Object.assign(n.state, { mining: m.mining, pause: m.pause });
    after?.();
    update(n);
    pollNodes().catch(() => {});
  } catch (e) {
    refs.error.textContent = e.message;
  } finally {
    refs.toggle.disabled = refs.setPause.disabled = false;
  }
}

function update(n) {
  const c = cards.get(n.id);
  if (!c) return;
  const { refs, el } = c;
  const st = n.state;
  c.base = n.base;
  el.style.setProperty('--node-color', n.color);
  el.classList.toggle('gone', !!n.gone);
  refs.name.textContent = st.name;
  refs.self.hidden = !n.self;
  refs.mining.textContent = n.gone ? 'gone' : st.mining ? 'mining' : 'stopped';
  refs.mining.className = 'tag ' + (st.mining && !n.gone ? 'on' : 'off');
  refs.url.textContent = st.url || '(no public URL)';
  if (st.url) refs.url.href = st.url;
  refs.height.textContent = fmtInt(st.height);
  refs.mined.textContent = fmtInt(st.blocks_mined);
  refs.pause.disabled = refs.toggle.disabled = refs.setPause.disabled = !n.reachable;
  refs.pause.title = refs.toggle.title = n.reachable ? '' : `Not reachable from this browser: ${n.error}`;
  refs.tip.textContent = shortHash(st.tip, 6);
  refs.tip.title = st.tip || '';
  refs.mempool.textContent = fmtInt(st.mempool);
  refs.peers.textContent = fmtInt(st.peers);
  refs.difficulty.textContent = st.bits == null ? '—' : st.target_block_millis > 0
    ? `${st.bits} bits · retarget in ${fmtInt(st.blocks_to_retarget)} (target ${st.target_block_millis / 1000} s)`
    : `${st.bits} bits (fixed)`;
  refs.hashrate.textContent = st.hash_rate == null ? '—'
    : `${fmtInt(Math.round(st.hash_rate))} H/s` + (st.hash_rate_limit > 0 ? ` (limit ${fmtInt(st.hash_rate_limit)})` : '');
  refs.pauseShown.textContent = st.pause != null ? `${+Number(st.pause).toFixed(2)} s` : '—';
  if (refs.pause !== document.activeElement && !refs.pause.dataset.dirty) refs.pause.value = String(st.pause ?? '');
  refs.toggle.textContent = st.mining ? 'Stop mining' : 'Start mining';
  refs.toggle.setAttribute('aria-label', `${st.mining ? 'Stop' : 'Start'} mining on ${st.name}`);
  refs.setPause.setAttribute('aria-label', `Set the pause of ${st.name}`);
  refs.lab.update(n);
  if (!n.reachable && n.error) refs.error.textContent = `Controls unavailable: ${n.error}`;
  else if (refs.error.textContent.startsWith('Controls unavailable')) refs.error.textContent = '';
}

function sortedNodes() {
  return [...state.nodes.values()].sort((a, b) => (a.state.name || '').localeCompare(b.state.name || '', 'en', { numeric: true }));
}

function render() {
  const grid = $('#nodes');
  const nodes = sortedNodes();
  for (const n of nodes) {
    if (!cards.has(n.id)) cards.set(n.id, nodeCard(n));
    update(n);
  }
  const els = nodes.map((n) => cards.get(n.id).el);
  if (els.some((el, i) => grid.children[i] !== el) || grid.children.length !== els.length) {
    // Reorder without rebuilding, so focus and typed values survive.
    for (const el of els) grid.append(el);
  }
  $('#self-name').textContent = state.self ? `${state.self.name} · height ${fmtInt(state.self.height)}` : '';
  renderHeights();
  renderWon();
}

function renderHeights() {
  const nodes = sortedNodes();
  lineChart($('#chart-height'), nodes.map((n) => ({ name: n.state.name, color: n.color, points: n.history })), {
    label: 'Chain height of each node over the last five minutes',
  });
  replace($('#legend-height'), nodes.map((n) => {
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.setProperty('--node-color', n.color);
    return h('li', null, dot, `${n.state.name}: ${fmtInt(n.state.height)}`);
  }));
}

function renderWon() {
  const won = blocksWon();
  const nodes = sortedNodes();
  const bars = nodes.map((n) => ({ name: n.state.name, color: n.color, value: won.get(n.state.miner_address) || 0 }));
  let others = 0;
  const known = new Set(nodes.map((n) => n.state.miner_address));
  for (const [addr, v] of won) if (!known.has(addr)) others += v;
  if (others) bars.push({ name: 'other miners', color: '#8c959f', value: others });
  barChart($('#chart-won'), bars, { label: 'Blocks on the best chain mined by each node' });
  const [lo, hi] = cachedSpan();
  $('#won-note').textContent = hi > 0 ? `on the best chain, heights ${Math.max(lo, 1)}–${hi}` : 'on the best chain';
}
