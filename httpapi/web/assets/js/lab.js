// The fork lab: cut a node off the network and heal it (controls on each
// node card), watch the branches grow side by side while the fork lasts,
// see which one won and what the reorg did (a narration in plain words),
// and watch the NATS messages behind it (the Messages view). docs/LAB.md
// walks a learner through it.

import { api } from './api.js';
import { $, fmtInt, fmtTime, h, replace, shortAddr, shortHash } from './dom.js';
import { emit, minerName, on, pollNodes, state } from './store.js';

const TAIL = 24; // blocks fetched under each tip to find where branches meet
const MAX_FORKS = 4; // fork entries kept on the page
const MAX_STORY = 40; // narration lines kept
const MAX_TAP_ROWS = 300;

export function initLab() {
  on('nodes', () => {
    watchReorgs();
    watchForks();
    fillSendNodes();
  });
  on('event', (ev) => {
    const self = state.self?.name || 'this node';
    if (ev.kind === 'reorg') onReorg(ev, self);
    else if (ev.kind === 'isolated' || ev.kind === 'healed') onIsolation(ev, self);
  });
}

// ---- node card: cut off and heal ----------------------------------------

/** The isolation controls of one node card; base() is the node's API base. */
export function labControls(id, base) {
  const refs = {};
  refs.seconds = h('input', { id: `iso-${id}`, type: 'number', min: '1', max: '600', step: 'any', value: '30', inputmode: 'decimal' });
  refs.isolate = h('button', { type: 'submit', class: 'btn isolate' }, 'Cut off');
  refs.heal = h('button', { type: 'button', class: 'btn heal', hidden: true }, 'Heal now');
  refs.tag = h('span', { class: 'tag cut', dataset: { field: 'isolation' }, hidden: true });
  const form = h('form', { class: 'lab-form', novalidate: true },
    h('div', null, h('label', { for: refs.seconds.id }, 'Cut off for (s)'), refs.seconds), refs.isolate);
  const el = h('div', { class: 'lab-controls' }, form, refs.heal, refs.tag);

  const call = async (seconds) => {
    refs.isolate.disabled = refs.heal.disabled = true;
    const err = el.closest('.node')?.querySelector('.error');
    if (err) err.textContent = '';
    try {
      const v = await api(base(), '/node/isolation', { method: 'PUT', body: { seconds } });
      const n = state.nodes.get(id);
      if (n) n.state.isolated_until = v.isolated_until;
      update(n);
      pollNodes().catch(() => {});
    } catch (e) {
      if (err) err.textContent = e.message;
    } finally {
      refs.isolate.disabled = refs.heal.disabled = false;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = Number(refs.seconds.value);
    if (!Number.isFinite(v) || v <= 0 || v > 600) {
      refs.seconds.setAttribute('aria-invalid', 'true');
      return;
    }
    refs.seconds.removeAttribute('aria-invalid');
    call(v);
  });
  // PUT with 0 heals, as DELETE does: a browser on another origin may PUT.
  refs.heal.addEventListener('click', () => call(0));

  function update(n) {
    if (!n) return;
    const until = n.state.isolated_until ? Date.parse(n.state.isolated_until) : 0;
    const left = until ? Math.max(0, Math.ceil((until - Date.now()) / 1000)) : 0;
    refs.tag.hidden = refs.heal.hidden = !until;
    refs.tag.textContent = until ? `cut off · ${left} s left` : '';
    refs.isolate.textContent = until ? 'Cut off again' : 'Cut off';
    refs.isolate.disabled = refs.heal.disabled = !n.reachable;
    refs.isolate.setAttribute('aria-label', `Cut ${n.state.name} off the network`);
    refs.heal.setAttribute('aria-label', `Reconnect ${n.state.name} now`);
    el.closest('.node')?.classList.toggle('isolated', !!until);
  }
  return { el, update };
}

// ---- narration ------------------------------------------------------------

function say(...parts) {
  const list = $('#narration');
  if (!list) return null;
  const li = h('li', null, h('time', null, fmtTime(Date.now())), h('span', null, ...parts));
  list.prepend(li);
  while (list.children.length > MAX_STORY) list.lastElementChild.remove();
  $('#narration-empty').hidden = true;
  return li;
}

const plural = (n, one, many = one + 's') => `${fmtInt(n)} ${n === 1 ? one : many}`;
const names = (list) => (list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`);

// isolated and healed events, from every node's stream.
function onIsolation(ev, name) {
  if (ev.kind === 'isolated') {
    const secs = Math.max(1, Math.round((Date.parse(ev.until) - Date.now()) / 1000));
    say(h('strong', null, name), ` is cut off from the network for ${secs} s: it sends and hears nothing, keeps taking transactions and mines on its own branch. Its peers will see it leave.`);
  } else {
    say(h('strong', null, name), ' rejoined the network: it beats its presence again and asks its peers for their tips; the branch with less work will be dropped.');
  }
}

// ---- reorgs from every node's event stream -------------------------------

const streams = new Map(); // node id → EventSource (other nodes)

function watchReorgs() {
  for (const n of state.nodes.values()) {
    if (n.self || !n.base || !n.reachable || streams.has(n.id)) continue;
    const es = new EventSource(n.base + '/api/v1/events');
    const name = () => state.nodes.get(n.id)?.state?.name || n.id.slice(0, 8);
    for (const kind of ['reorg', 'isolated', 'healed']) {
      es.addEventListener(kind, (m) => {
        let ev;
        try {
          ev = JSON.parse(m.data);
        } catch {
          return; // a malformed event is ignored
        }
        if (kind === 'reorg') onReorg(ev, name());
        else onIsolation({ ...ev, kind }, name());
      });
    }
    streams.set(n.id, es);
  }
}

function onReorg(ev, who) {
  const depth = ev.depth || 0;
  const fork = ev.fork_height ?? 0;
  const top = fork + depth;
  const returned = ev.returned_count ?? (ev.returned || []).length;
  const conflicting = ev.conflicting || [];
  const conflictingCount = ev.conflicting_count ?? conflicting.length;
  const src = ev.source ? state.nodes.get(ev.source)?.state?.name : '';
  const parts = [];
  if (ev.dropped_mined > 0) {
    parts.push(`${who} mined ${ev.dropped_mined === 1 ? `#${fmtInt(top)}` : `${fmtInt(ev.dropped_mined)} blocks up to #${fmtInt(top)}`} on its own branch`);
  }
  parts.push(`the other branch${src ? ` (from ${src})` : ''} has more work`);
  parts.push(`${who} dropped ${plural(depth, 'block')}${depth ? ` (#${fmtInt(fork + 1)}${depth > 1 ? `–#${fmtInt(top)}` : ''})` : ''} and adopted ${fmtInt((ev.added || []).length)}`);
  parts.push(`${plural(returned, 'transaction')} went back to the pool`);
  if (conflictingCount) parts.push(`${plural(conflictingCount, 'transaction')} ${conflictingCount === 1 ? 'was' : 'were'} dropped as conflicting`);
  const li = say(h('span', { class: 'tag reorg' }, 'reorg'), ' ', parts.join('; ') + '.');
  if (li) li.classList.add('story-reorg');
  const details = reorgDetails(ev);
  if (li && details) li.append(details);

  for (const c of conflicting) {
    state.conflicts.set(c.id, c.with
      ? `dropped as conflicting: it spends the same coins as ${c.with.slice(0, 8)}, which is on the winning branch (a double spend: only one of the two can stand)`
      : 'dropped as conflicting: the winning branch leaves its sender too little to pay it');
  }
  if (conflicting.length) emit('conflicts');
  attachToFork(who, ev, details);
}

function txLink(id) {
  return h('a', { class: 'mono', href: `#/explorer/tx/${id}` }, id.slice(0, 8));
}

function reorgDetails(ev) {
  const returned = ev.returned || [];
  const conflicting = ev.conflicting || [];
  if (!returned.length && !conflicting.length) return null;
  return h('div', { class: 'reorg-details' },
    returned.length ? h('div', { class: 'returned' }, 'Back to the pool: ', returned.map((id, i) => [i ? ', ' : '', txLink(id)])) : null,
    conflicting.map((c) => h('div', { class: 'conflicting', dataset: { txId: c.id } },
      h('span', { class: 'tag dropped' }, 'dropped'), ' ', txLink(c.id),
      ` (${fmtInt(c.amount)} from ${shortAddr(c.from)} to ${shortAddr(c.to)})`,
      c.with ? [' conflicts with ', txLink(c.with), ', which spends the same coins and is on the winning branch: a double spend, settled.']
        : ': the winning branch leaves its sender too little to pay it.')));
}

// ---- forks: branches side by side ------------------------------------------

let watching = false;
let current = null; // the fork in progress: {ancestor, branches: Map key → {key, names, blocks, won}, el, story, extra}
let latest = null; // the fork drawn last, in progress or healed

async function fetchTail(base, height) {
  const from = Math.max(0, height - TAIL + 1);
  const page = await api(base, `/chain?from=${from}&limit=${TAIL}`, { timeout: 3000 });
  const byHeight = new Map();
  for (const b of page.blocks || []) {
    const reward = (b.transactions || []).find((t) => t.type === 'reward');
    byHeight.set(b.header.height, { hash: b.hash, height: b.header.height, miner: reward ? reward.to : '', txs: Math.max(0, (b.transactions || []).length - 1) });
  }
  return byHeight;
}

/**
 * Where the tails meet and the distinct branches above (one when every
 * node is on one chain, some behind); null when they do not meet within
 * the tails.
 */
function findFork(groups, tails) {
  const tops = tails.map((t) => Math.max(-1, ...t.keys()));
  const lows = tails.map((t) => Math.min(...t.keys()));
  let ancestor = null;
  for (let ht = Math.min(...tops); ht >= Math.max(...lows); ht--) {
    const hash = tails[0].get(ht)?.hash;
    if (hash && tails.every((t) => t.get(ht)?.hash === hash)) {
      ancestor = { height: ht, hash };
      break;
    }
  }
  if (!ancestor) return null; // deeper than the tails: wait for the next look
  let branches = groups.map((g, i) => ({
    names: [...g.names],
    blocks: [...tails[i].values()].filter((b) => b.height > ancestor.height).sort((a, b) => a.height - b.height),
  })).filter((b) => b.blocks.length);
  // A branch that is a prefix of another is the same branch, behind.
  branches.sort((a, b) => b.blocks.length - a.blocks.length);
  const kept = [];
  for (const b of branches) {
    const same = kept.find((k) => b.blocks.every((x, i) => k.blocks[i].hash === x.hash));
    if (same) same.names.push(...b.names);
    else kept.push(b);
  }
  if (kept.length < 2) return { ancestor, branches: kept };
  for (const b of kept) {
    b.key = b.blocks[0].hash;
    b.names.sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  }
  kept.sort((a, b) => a.names[0].localeCompare(b.names[0], 'en', { numeric: true }));
  return { ancestor, branches: kept };
}

async function watchForks() {
  if (watching) return;
  watching = true;
  try {
    const byTip = new Map();
    for (const n of state.nodes.values()) {
      if (n.gone || !n.state?.tip) continue;
      let g = byTip.get(n.state.tip);
      if (!g) byTip.set(n.state.tip, (g = { height: n.state.height, names: [], base: null }));
      g.names.push(n.state.name);
      if (n.reachable && g.base == null) g.base = n.base;
    }
    const groups = [...byTip.values()].filter((g) => g.base != null);
    if (groups.length < 2 && !current) return;
    const tails = await Promise.all(groups.map((g) => fetchTail(g.base, g.height)));
    const fork = groups.length >= 2 ? findFork(groups, tails) : null;
    if (fork && fork.branches.length >= 2) showFork(fork);
    else if (current && (groups.length === 1 || fork) && !forkNodeMissing()) {
      // One chain again: the tail of the node furthest ahead decides.
      let best = 0;
      groups.forEach((g, i) => { if (g.height > groups[best].height) best = i; });
      healed(tails[best]);
    }
  } catch (e) {
    console.warn('fork watch:', e.message);
  } finally {
    watching = false;
  }
}

/** Whether a node of the fork in progress is out of sight (not a heal). */
function forkNodeMissing() {
  const seen = new Set([...state.nodes.values()].filter((n) => !n.gone).map((n) => n.state.name));
  return [...current.branches.values()].some((b) => b.names.some((name) => !seen.has(name)));
}

function showFork(fork) {
  if (!current || current.ancestor.hash !== fork.ancestor.hash) {
    current = { ancestor: fork.ancestor, branches: new Map(), el: h('li', { class: 'fork', dataset: { state: 'fork' } }), story: null, extra: [] };
    latest = current;
    const list = $('#fork-list');
    list.prepend(current.el);
    while (list.children.length > MAX_FORKS) list.lastElementChild.remove();
    $('#fork-empty').hidden = true;
  }
  for (const b of fork.branches) {
    const known = current.branches.get(b.key);
    if (known) {
      for (const x of b.blocks) if (!known.blocks.some((k) => k.hash === x.hash)) known.blocks.push(x);
      known.names = b.names;
    } else current.branches.set(b.key, { ...b });
  }
  drawFork(current);
  const parts = [...current.branches.values()].map((b) => `${names(b.names)} ${b.names.length === 1 ? 'has' : 'have'} ${range(b.blocks)}`);
  const text = `The chain forked after #${fmtInt(current.ancestor.height)}: ${parts.join('; ')}. Each side mines on its own branch.`;
  if (!current.story) current.story = say(h('span', { class: 'tag pending' }, 'fork'), ' ', h('span', { class: 'story-text' }, text));
  else current.story.querySelector('.story-text').textContent = text;
}

function range(blocks) {
  const hs = blocks.map((b) => b.height);
  const lo = Math.min(...hs);
  const hi = Math.max(...hs);
  return lo === hi ? `#${fmtInt(lo)}` : `#${fmtInt(lo)}–#${fmtInt(hi)}`;
}

function healed(tail) {
  const fork = current;
  current = null;
  let winner = null;
  for (const b of fork.branches.values()) {
    const top = b.blocks[b.blocks.length - 1];
    b.won = tail.get(top.height)?.hash === top.hash || tail.get(b.blocks[0].height)?.hash === b.blocks[0].hash;
    if (b.won && !winner) winner = b;
  }
  fork.el.dataset.state = 'healed';
  drawFork(fork);
  const losers = [...fork.branches.values()].filter((b) => !b.won);
  const text = winner
    ? `The fork healed: the branch of ${names(winner.names)} (${range(winner.blocks)}) has more work and won; ${losers.map((b) => `the branch of ${names(b.names)} (${range(b.blocks)})`).join(' and ')} was dropped.`
    : 'The fork healed: every node is on one chain again.';
  say(h('span', { class: 'tag on' }, 'healed'), ' ', text);
  replace(fork.el.querySelector('.fork-outcome'), text);
}

function colorOf(miner) {
  const name = minerName(miner);
  for (const n of state.nodes.values()) if (n.state.name === name) return n.color;
  return '#8c959f';
}

function drawFork(fork) {
  const branches = [...fork.branches.values()];
  const top = Math.max(...branches.flatMap((b) => b.blocks.map((x) => x.height)));
  const healedState = fork.el.dataset.state === 'healed';
  const cols = branches.map((b) => {
    const cells = [];
    for (let ht = top; ht > fork.ancestor.height; ht--) {
      const x = b.blocks.find((k) => k.height === ht);
      if (!x) {
        cells.push(h('li', { class: 'fblock empty', 'aria-hidden': 'true' }));
        continue;
      }
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      dot.style.setProperty('--node-color', colorOf(x.miner));
      cells.push(h('li', { class: 'fblock', dataset: { height: ht, hash: x.hash } },
        h('span', { class: 'height' }, `#${fmtInt(ht)}`), dot,
        h('a', { class: 'mono', href: `#/explorer/block/${x.hash}`, title: x.hash }, shortHash(x.hash, 6)),
        h('span', { class: 'note' }, `${minerName(x.miner) || 'wallet ' + shortAddr(x.miner)} · ${plural(x.txs, 'tx')}`)));
    }
    const cls = 'branch' + (healedState ? (b.won ? ' won' : ' lost') : '');
    return h('div', { class: cls, dataset: { names: b.names.join(',') } },
      h('h3', null, `${names(b.names)}'s branch`, healedState ? h('span', { class: `tag ${b.won ? 'on' : 'dropped'}` }, b.won ? 'won' : 'dropped') : null),
      h('ol', null, cells));
  });
  replace(fork.el,
    h('p', { class: 'fork-title' }, healedState ? 'Fork, healed' : h('strong', null, 'Fork in progress'),
      ` — the branches meet at #${fmtInt(fork.ancestor.height)} `, h('span', { class: 'mono note' }, shortHash(fork.ancestor.hash, 6))),
    h('div', { class: 'branches' }, cols),
    h('p', { class: 'fork-outcome note' }, healedState ? '' : 'Both branches are drawn while the fork lasts; when the nodes meet again, the one with more work wins.'),
    fork.extra);
}

/** Adds a reorg's details under the latest fork drawn. */
function attachToFork(who, ev, details) {
  if (!latest || !details) return;
  const copy = details.cloneNode(true);
  copy.prepend(h('strong', null, `${who}'s reorg: `));
  latest.extra.push(copy);
  latest.el.append(copy);
}

// ---- the wallet's send form: which node to send to ------------------------

function fillSendNodes() {
  const sel = $('#send-node');
  if (!sel) return;
  const want = [['', `${state.self?.name || 'this node'} (this page's node)`]];
  for (const n of [...state.nodes.values()].sort((a, b) => (a.state.name || '').localeCompare(b.state.name || '', 'en', { numeric: true }))) {
    if (!n.self && n.reachable && n.base) want.push([n.base, n.state.name + (n.state.isolated_until ? ' (cut off)' : '')]);
  }
  const have = [...sel.options].map((o) => [o.value, o.textContent]);
  if (JSON.stringify(have) === JSON.stringify(want)) return;
  const v = sel.value;
  replace(sel, want.map(([value, text]) => h('option', { value }, text)));
  if (want.some(([value]) => value === v)) sel.value = v;
}

// ---- the Messages view: the NATS tap -------------------------------------

let tap = null; // {es, paused}

export function showTap() {
  if (!tap) {
    tap = { es: null, paused: false };
    $('#tap-form').addEventListener('submit', (e) => {
      e.preventDefault();
      connectTap();
    });
    $('#tap-dir').addEventListener('change', refilterTap);
    $('#tap-text').addEventListener('input', refilterTap);
    $('#tap-pause').addEventListener('click', () => {
      tap.paused = !tap.paused;
      $('#tap-pause').textContent = tap.paused ? 'Resume' : 'Pause';
      $('#tap-pause').setAttribute('aria-pressed', String(tap.paused));
    });
    connectTap();
  }
}

function connectTap() {
  tap.es?.close();
  const subject = $('#tap-subject').value.trim();
  replace($('#tap-table tbody'));
  $('#tap-error').hidden = true;
  const es = new EventSource('/api/v1/tap' + (subject ? `?subject=${encodeURIComponent(subject)}` : ''));
  tap.es = es;
  es.addEventListener('hello', (m) => {
    try {
      const hello = JSON.parse(m.data);
      $('#tap-cmd').textContent = hello.nats_sub;
    } catch {
      // keep the default command
    }
  });
  es.addEventListener('msg', (m) => {
    if (tap.paused) return;
    try {
      addTapRow(JSON.parse(m.data));
    } catch {
      // a malformed message is ignored
    }
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      $('#tap-error').textContent = 'The node refused this subject filter, or the stream closed.';
      $('#tap-error').hidden = false;
    }
  };
}

function tapVisible(tr) {
  const dir = $('#tap-dir').value;
  const text = $('#tap-text').value.trim().toLowerCase();
  return (!dir || tr.dataset.dir === dir) && (!text || tr.textContent.toLowerCase().includes(text));
}

function refilterTap() {
  for (const tr of $('#tap-table tbody').children) tr.hidden = !tapVisible(tr);
}

function addTapRow(m) {
  const body = $('#tap-table tbody');
  const from = m.dir === 'out' ? 'this node' : m.node_name || (m.node ? m.node.slice(0, 8) : '—');
  const tr = h('tr', { class: m.isolated ? 'isolated' : '', dataset: { dir: m.dir, subject: m.subject } },
    h('td', { class: 'mono' }, fmtTime(Date.parse(m.time))),
    h('td', null, h('span', { class: `tag ${m.dir === 'out' ? 'on' : 'self'}` }, m.dir === 'out' ? 'sent' : 'received')),
    h('td', { class: 'mono subject' }, m.subject),
    h('td', { class: 'num' }, fmtInt(m.size)),
    h('td', null, from),
    h('td', { class: 'summary' }, m.summary));
  tr.hidden = !tapVisible(tr);
  body.prepend(tr);
  while (body.children.length > MAX_TAP_ROWS) body.lastElementChild.remove();
}
