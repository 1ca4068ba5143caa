// Live chain: blocks as this node adopts them (from the event stream),
// reorgs with the blocks they dropped and the transactions returned to the
// pool, and a log of every event.

import { $, fmtDateTime, fmtInt, fmtTime, h, shortAddr, shortHash } from './dom.js';
import { minerName, nodeName, on, state } from './store.js';

const MAX_ITEMS = 60;
const rows = new Map(); // block hash → <li>
let seeded = false;

export function initLive() {
  on('chain', seed);
  on('event', (ev) => {
    if (ev.kind === 'block') addBlock(ev, true);
    else if (ev.kind === 'reorg') addReorg(ev);
    logEvent(ev);
  });
  on('nodes', recolor);
}

function colorOfMiner(addr) {
  const name = minerName(addr);
  for (const n of state.nodes.values()) if (n.state.name === name) return n.color;
  return '#8c959f';
}

function minerLabel(addr) {
  return minerName(addr) || `wallet ${shortAddr(addr)}`;
}

function whoLabel(b) {
  return b.height === 0 && !b.miner ? 'genesis block' : `mined by ${minerLabel(b.miner)}`;
}

function blockRow(b, fresh) {
  const dot = h('span', { class: 'dot', 'aria-hidden': 'true', dataset: { miner: b.miner || '' } });
  dot.style.setProperty('--node-color', colorOfMiner(b.miner));
  const src = b.source && b.source !== state.self?.node_id ? `from ${nodeName(b.source)}` : b.source ? 'mined here' : '';
  const li = h('li', { class: fresh ? 'new' : '', dataset: { hash: b.hash, height: b.height } },
    h('span', { class: 'height' }, `#${fmtInt(b.height)}`),
    h('div', null,
      h('div', { class: 'who' }, dot, whoLabel(b)),
      h('div', { class: 'meta' },
        h('a', { class: 'hash mono', href: `#/explorer/block/${b.hash}`, title: b.hash }, shortHash(b.hash, 10)),
        h('span', null, `${b.txs} tx${b.txs === 1 ? '' : 's'}`),
        src && h('span', null, src),
        b.status === 'reorganized' && h('span', { class: 'tag reorg' }, 'new branch'))),
    h('span', { class: 'meta' }, b.time ? (b.height === 0 ? fmtDateTime(b.time) : fmtTime(b.time)) : ''),
  );
  if (state.dropped.has(b.hash)) markDropped(li);
  return li;
}

function markDropped(li) {
  if (li.classList.contains('dropped')) return;
  li.classList.add('dropped');
  li.querySelector('.meta')?.append(h('span', { class: 'tag dropped' }, 'dropped'));
}

function prune(list) {
  while (list.children.length > MAX_ITEMS) {
    const last = list.lastElementChild;
    rows.delete(last.dataset.hash);
    last.remove();
  }
}

/** The first time the chain is known, show its last blocks. */
function seed() {
  if (seeded) return;
  const tail = state.blocks.filter(Boolean).slice(-15);
  if (!tail.length) return;
  seeded = true;
  const list = $('#live-blocks');
  // Newest first, after any block the stream already showed.
  for (const b of tail.reverse()) {
    if (rows.has(b.hash)) continue;
    const li = blockRow({ hash: b.hash, height: b.height, miner: b.miner, txs: b.txs.length, time: b.time }, false);
    rows.set(b.hash, li);
    list.append(li);
  }
  prune(list);
}

function addBlock(ev, fresh) {
  if (rows.has(ev.hash)) return;
  const list = $('#live-blocks');
  // Flash only what the user can see arrive.
  const li = blockRow({ ...ev, txs: ev.txs || 0, time: ev.at }, fresh && !$('#view-live').hidden);
  rows.set(ev.hash, li);
  list.prepend(li);
  prune(list);
}

function addReorg(ev) {
  for (const hash of ev.dropped || []) {
    const li = rows.get(hash);
    if (li) markDropped(li);
  }
  const dropped = (ev.dropped || []).map((hash) => {
    const b = state.byHash.get(hash);
    return h('li', null, h('a', { class: 'mono', href: `#/explorer/block/${hash}`, title: hash }, shortHash(hash, 10)),
      b ? ` at #${b.height}, mined by ${minerLabel(b.miner)}` : '');
  });
  const returned = ev.returned || [];
  const li = h('li', { class: 'reorg', dataset: { hash: `reorg-${ev.at}-${Math.random()}` } },
    h('strong', null, `Reorg: ${ev.depth} block${ev.depth === 1 ? '' : 's'} dropped, ${(ev.added || []).length} adopted`),
    ev.source ? ` — switched to the branch of ${nodeName(ev.source)}` : '',
    h('ul', { class: 'note' }, dropped),
    h('div', { class: 'note' }, returned.length
      ? [`${returned.length} transaction${returned.length === 1 ? '' : 's'} returned to the mempool: `,
        returned.map((id, i) => [i ? ', ' : '', h('a', { class: 'mono', href: `#/explorer/tx/${id}` }, id.slice(0, 8))])]
      : 'No transaction returned to the mempool (the dropped blocks held only their rewards, or the new branch has them too).'));
  $('#live-blocks').prepend(li);
}

function logEvent(ev) {
  let text;
  switch (ev.kind) {
    case 'block':
      text = [h('span', { class: 'tag' }, 'block'), ` #${fmtInt(ev.height)} by ${minerLabel(ev.miner)}`];
      break;
    case 'side-block':
      text = [h('span', { class: 'tag reorg' }, 'side block'), ` #${fmtInt(ev.height)} by ${minerLabel(ev.miner)}, kept beside the tip (it ties or trails it)`];
      break;
    case 'reorg':
      text = [h('span', { class: 'tag reorg' }, 'reorg'), ` depth ${ev.depth}, ${(ev.returned || []).length} tx returned`];
      break;
    case 'tx': {
      const tx = ev.tx || {};
      text = [h('span', { class: 'tag pending' }, tx.type || 'tx'), ' ',
        h('a', { class: 'mono', href: `#/explorer/tx/${tx.id}` }, (tx.id || '').slice(0, 8)), ` amount ${fmtInt(tx.amount)}`];
      break;
    }
    case 'peer-up':
    case 'peer-down':
      text = [h('span', { class: `tag ${ev.kind === 'peer-up' ? 'on' : 'dropped'}` }, ev.kind), ` ${ev.peer?.name || ''} ${ev.peer?.url || ''}`];
      break;
    default:
      text = [ev.kind];
  }
  const list = $('#live-events');
  list.prepend(h('li', null, h('time', null, fmtTime(ev.at)), h('span', null, text)));
  while (list.children.length > 100) list.lastElementChild.remove();
}

function recolor() {
  for (const li of rows.values()) {
    const dot = li.querySelector('.dot');
    if (dot) dot.style.setProperty('--node-color', colorOfMiner(dot.dataset.miner));
  }
}
