// Explorer: latest blocks, a block, a transaction, an address with its
// balance, the mempool; and the search box.

import { api } from './api.js';
import { $, copyButton, fmtDateTime, fmtInt, h, replace, shortAddr, shortHash } from './dom.js';
import { isAddress } from './pycotr.js';
import { minerName, state } from './store.js';
import { walletLabel } from './wallet.js';

const PAGE = 20;
let current = null; // the route shown, to refresh the latest-blocks page

export function addrLink(a) {
  if (!a) return h('span', { class: 'muted' }, '—');
  const label = walletLabel(a) || minerName(a);
  return h('a', { href: `#/explorer/address/${a}`, title: a, class: 'addr' },
    label ? [label, ' ', h('span', { class: 'mono muted' }, shortAddr(a))] : h('span', { class: 'mono' }, shortAddr(a)));
}

export function txLink(id) {
  return h('a', { class: 'mono', href: `#/explorer/tx/${id}`, title: id }, id.slice(0, 8) + '…');
}

function blockLink(hash, text) {
  return h('a', { class: 'mono', href: `#/explorer/block/${hash}`, title: hash }, text ?? shortHash(hash, 10));
}

function txTable(txs, { empty = 'No transactions.' } = {}) {
  if (!txs.length) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table tx-table' },
    h('thead', null, h('tr', null, ['Id', 'Type', 'From', 'To', 'Amount', 'Fee'].map((c, i) =>
      h('th', { scope: 'col', class: i >= 4 ? 'num' : '' }, c)))),
    h('tbody', null, txs.map((tx) => h('tr', { dataset: { txId: tx.id } },
      h('td', null, txLink(tx.id)),
      h('td', null, h('span', { class: 'tag' }, tx.type)),
      h('td', null, tx.type === 'reward' ? h('span', { class: 'muted' }, 'block reward') : addrLink(tx.from)),
      h('td', null, addrLink(tx.to)),
      h('td', { class: 'num' }, fmtInt(tx.amount)),
      h('td', { class: 'num' }, fmtInt(tx.fee)))))));
}

function show(...children) {
  replace($('#explorer'), ...children);
}

function problem(e) {
  show(h('div', { class: 'card' }, h('h2', null, e.status === 404 ? 'Not found' : 'Error'), h('p', { role: 'alert' }, e.message)));
}

/** route: the parts after #/explorer. */
export async function showExplorer(parts) {
  current = parts.join('/');
  const [what, id] = parts;
  try {
    if (what === 'block' && id) await showBlock(id);
    else if (what === 'tx' && id) await showTx(id);
    else if (what === 'address' && id) await showAddress(id);
    else if (what === 'mempool') await showMempool();
    else await showLatest(what === 'from' && id ? Number(id) : null);
  } catch (e) {
    problem(e);
  }
}

/** Refreshes a page that shows live data (latest blocks, mempool). */
export function refreshExplorer() {
  if (current === '' || current === 'mempool') showExplorer(current ? [current] : []);
}

async function showLatest(top) {
  const tipHeight = (await api('', '/chain?from=0&limit=1')).height;
  const hi = top == null || top > tipHeight ? tipHeight : top;
  const from = Math.max(0, hi - PAGE + 1);
  const page = await api('', `/chain?from=${from}&limit=${hi - from + 1}`);
  const mp = await api('', '/mempool');
  const blocks = (page.blocks || []).slice().reverse();
  const pager = h('div', { class: 'pager' },
    hi < tipHeight && h('a', { class: 'btn', href: `#/explorer/from/${Math.min(tipHeight, hi + PAGE)}` }, '← Newer'),
    from > 0 && h('a', { class: 'btn', href: `#/explorer/from/${from - 1}` }, 'Older →'));
  show(
    h('div', { class: 'split' },
      h('div', { class: 'card' }, h('h2', null, 'Best chain'), h('div', { class: 'big-number' }, `#${fmtInt(tipHeight)}`),
        h('p', { class: 'note' }, 'height of the tip on this node')),
      h('div', { class: 'card' }, h('h2', null, h('a', { href: '#/explorer/mempool' }, 'Mempool')),
        h('div', { class: 'big-number' }, fmtInt(mp.count)), h('p', { class: 'note' }, `pending transactions, ${fmtInt(mp.bytes)} bytes`))),
    h('div', { class: 'card' },
      h('h2', null, top == null ? 'Latest blocks' : `Blocks ${from}–${hi}`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'blocks-table' },
        h('thead', null, h('tr', null, ['Height', 'Hash', 'Miner', 'Txs', 'Time'].map((c, i) =>
          h('th', { scope: 'col', class: i === 3 ? 'num' : '' }, c)))),
        h('tbody', null, blocks.map((b) => {
          const reward = b.transactions.find((t) => t.type === 'reward');
          return h('tr', { dataset: { height: b.header.height } },
            h('td', null, blockLink(b.hash, `#${fmtInt(b.header.height)}`)),
            h('td', null, blockLink(b.hash)),
            h('td', null, reward ? addrLink(reward.to) : h('span', { class: 'muted' }, 'genesis')),
            h('td', { class: 'num' }, fmtInt(b.transactions.length)),
            h('td', null, fmtDateTime(b.header.timestamp)));
        })))),
      pager));
}

async function showBlock(id) {
  const b = await api('', `/blocks/${encodeURIComponent(id)}`);
  const hd = b.header;
  const zero = /^0+$/.test(hd.prev_hash);
  show(h('div', { class: 'card', id: 'block-detail' },
    h('div', { class: 'row spread' }, h('h2', null, `Block #${fmtInt(b.height)}`),
      h('span', { class: `tag ${b.main ? 'confirmed' : 'dropped'}` }, b.main ? 'on the best chain' : 'not on the best chain (stale branch)')),
    h('dl', { class: 'kv' },
      h('dt', null, 'Hash'), h('dd', { class: 'mono' }, b.hash, ' ', copyButton(b.hash)),
      h('dt', null, 'Previous'), h('dd', { class: 'mono' }, zero ? '— (genesis)' : blockLink(hd.prev_hash, hd.prev_hash)),
      h('dt', null, 'Next'), h('dd', null, b.main && b.height < (state.self?.height ?? 0) ? blockLink(String(b.height + 1), `#${fmtInt(b.height + 1)}`) : '—'),
      h('dt', null, 'Time'), h('dd', null, fmtDateTime(hd.timestamp), h('span', { class: 'muted' }, ` (${hd.timestamp} ms)`)),
      h('dt', null, 'Merkle root'), h('dd', { class: 'mono' }, hd.merkle_root),
      h('dt', null, 'Difficulty'), h('dd', null, `${hd.bits} leading zero bits`),
      h('dt', null, 'Nonce'), h('dd', { class: 'mono' }, String(hd.nonce)),
      h('dt', null, 'Size'), h('dd', null, `${fmtInt(b.size)} bytes`)),
  ), h('div', { class: 'card' }, h('h2', null, `Transactions (${b.transactions.length})`), txTable(b.transactions)));
}

async function showTx(id) {
  const v = await api('', `/txs/${encodeURIComponent(id)}`);
  const tx = v.tx;
  const card = tx.card;
  show(h('div', { class: 'card', id: 'tx-detail' },
    h('div', { class: 'row spread' }, h('h2', null, `Transaction ${tx.id}`), h('span', { class: `tag ${v.status}` }, v.status)),
    h('dl', { class: 'kv' },
      h('dt', null, 'Type'), h('dd', null, tx.type),
      h('dt', null, 'Block'), h('dd', null, v.block ? [blockLink(v.block), ` at height ${fmtInt(v.height)}`] : 'not yet in a block (in the mempool)'),
      h('dt', null, 'From'), h('dd', null, tx.type === 'reward' ? 'block reward' : addrLink(tx.from)),
      h('dt', null, 'To'), h('dd', null, addrLink(tx.to)),
      h('dt', null, 'Amount'), h('dd', null, fmtInt(tx.amount)),
      h('dt', null, 'Fee'), h('dd', null, fmtInt(tx.fee)),
      card && [h('dt', null, 'Card'), h('dd', null, `${card.masked}, valid through ${card.expiry}`)],
      tx.signature && [h('dt', null, 'Signature'), h('dd', { class: 'mono' }, shortHash(tx.signature, 16))])));
}

async function showAddress(addr) {
  const bal = await api('', `/balances/${encodeURIComponent(addr)}`);
  const mp = await api('', '/mempool');
  const mine = (tx) => tx.from === addr || tx.to === addr;
  const confirmed = [];
  for (let i = state.blocks.length - 1; i >= 0 && confirmed.length < 200; i--) {
    const b = state.blocks[i];
    if (b) for (const tx of b.txs) if (mine(tx)) confirmed.push(tx);
  }
  const label = walletLabel(addr) || minerName(addr);
  show(h('div', { class: 'card', id: 'address-detail' },
    h('h2', null, label ? `Address — ${label}` : 'Address'),
    h('p', { class: 'addr-full' }, addr), copyButton(addr, 'Copy address'),
    h('dl', { class: 'kv' },
      h('dt', null, 'Balance'), h('dd', { class: 'big-number', dataset: { field: 'balance' } }, fmtInt(bal.balance)),
      h('dt', null, 'Spendable'), h('dd', { dataset: { field: 'spendable' } }, `${fmtInt(bal.spendable)} (balance less pending spending)`))),
  h('div', { class: 'card' }, h('h2', null, 'Pending'), txTable((mp.transactions || []).filter(mine), { empty: 'Nothing pending.' })),
  h('div', { class: 'card' }, h('h2', null, 'Confirmed (recent blocks)'), txTable(confirmed, { empty: 'No transaction in the recent blocks.' })));
}

async function showMempool() {
  const mp = await api('', '/mempool');
  show(h('div', { class: 'card', id: 'mempool' },
    h('h2', null, `Mempool: ${fmtInt(mp.count)} pending, ${fmtInt(mp.bytes)} bytes`),
    h('p', { class: 'note' }, 'In the order a miner takes them: highest fee first, then arrival.'),
    txTable(mp.transactions || [], { empty: 'The mempool is empty.' })));
}

/** Where a search term leads: a height, a block hash, a tx id, an address. */
export async function search(term) {
  const q = term.trim().toLowerCase();
  if (!q) return null;
  if (/^\d+$/.test(q)) return `#/explorer/block/${q}`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(q)) return `#/explorer/tx/${q}`;
  if (/^[0-9a-f]{64}$/.test(q)) return `#/explorer/block/${q}`;
  if (isAddress(q)) return `#/explorer/address/${q}`;
  // A transaction id of another form: ask the node.
  try {
    await api('', `/txs/${encodeURIComponent(term.trim())}`);
    return `#/explorer/tx/${encodeURIComponent(term.trim())}`;
  } catch {
    throw new Error(`Nothing matches "${term.trim()}": try a block height, a 64-digit block hash, a transaction id or an address.`);
  }
}
