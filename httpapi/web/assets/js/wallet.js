// Wallet: RSA keys made and kept in this page (IndexedDB only when the user
// asks), card purchases and transfers signed here with WebCrypto.

import { api } from './api.js';
import { $, copyButton, fmtInt, fmtTime, h, replace, shortAddr } from './dom.js';
import { FieldError, checkAmount, cryptoAvailable, generateWallet, isAddress, makeCard, newMint, newTransfer } from './pycotr.js';
import { on, state } from './store.js';

const wallets = []; // {address, label, privateKey, publicKey, remembered, balance, spendable}
const activity = []; // {id, kind, amount, status, height, li}

export function walletLabel(addr) {
  return wallets.find((w) => w.address === addr)?.label || '';
}

// ---- IndexedDB: CryptoKey objects are stored as they are (structured
// clone), so a non-extractable key stays non-extractable. ----

const DB = 'pycotr-wallets';
const STORE = 'wallets';

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'address' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function dbDo(mode, fn) {
  const db = await openDB();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req?.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

async function loadRemembered() {
  try {
    const rows = (await dbDo('readonly', (s) => s.getAll())) || [];
    rows.sort((a, b) => a.created - b.created);
    for (const r of rows) if (!wallets.some((w) => w.address === r.address)) wallets.push({ ...r, remembered: true });
  } catch (e) {
    console.warn('wallet storage unavailable:', e.message);
  }
}

// ---- UI ----

export async function initWallet() {
  if (!cryptoAvailable()) {
    const warn = $('#crypto-warning');
    warn.hidden = false;
    warn.textContent = 'This page is not a secure context, so the browser offers no WebCrypto: open the dashboard over https, or on localhost / 127.0.0.1, to make keys and sign.';
    for (const el of document.querySelectorAll('#view-wallet button, #view-wallet input, #view-wallet select, #view-wallet textarea')) el.disabled = true;
  }
  $('#create-wallet').addEventListener('click', createWallet);
  $('#buy-form').addEventListener('submit', (e) => { e.preventDefault(); buy(); });
  $('#send-form').addEventListener('submit', (e) => { e.preventDefault(); send(); });
  $('#send-to-wallet').addEventListener('change', (e) => {
    if (e.target.value) $('#send-to').value = e.target.value;
  });
  on('tick', refresh);
  on('conflicts', () => activity.filter((a) => a.status === 'dropped').forEach(renderActivity)); // why (lab.js)
  if (cryptoAvailable()) await loadRemembered();
  render();
}

async function createWallet() {
  const btn = $('#create-wallet');
  btn.disabled = true;
  btn.textContent = 'Creating…';
  try {
    const w = await generateWallet();
    w.label = `Wallet ${nextNumber()}`;
    w.created = Date.now();
    if ($('#remember').checked) {
      await dbDo('readwrite', (s) => s.put({ address: w.address, label: w.label, created: w.created, privateKey: w.privateKey, publicKey: w.publicKey }));
      w.remembered = true;
    }
    wallets.push(w);
    render();
    refresh();
  } catch (e) {
    setResult('#buy-result', `Could not create a wallet: ${e.message}`, false);
  } finally {
    btn.disabled = false;
    btn.textContent = 'Create wallet';
  }
}

function nextNumber() {
  let n = 1;
  while (wallets.some((w) => w.label === `Wallet ${n}`)) n++;
  return n;
}

async function forget(w) {
  if (!confirm(`Forget ${w.label}? Its private key is deleted from this browser; coins it holds can no longer be spent from here.`)) return;
  if (w.remembered) await dbDo('readwrite', (s) => s.delete(w.address)).catch(() => {});
  wallets.splice(wallets.indexOf(w), 1);
  render();
}

function render() {
  const body = $('#wallet-table tbody');
  replace(body, wallets.map((w) => {
    w.balanceCell = h('td', { class: 'num balance' }, w.balance == null ? '…' : fmtInt(w.balance));
    w.spendableCell = h('td', { class: 'num spendable' }, w.spendable == null ? '…' : fmtInt(w.spendable));
    return h('tr', { dataset: { address: w.address, label: w.label } },
      h('th', { scope: 'row' }, w.label, w.remembered ? h('span', { class: 'tag self', title: 'kept in this browser' }, ' remembered') : ''),
      h('td', null, h('a', { class: 'mono', href: `#/explorer/address/${w.address}`, title: w.address }, shortAddr(w.address))),
      w.balanceCell, w.spendableCell,
      h('td', { class: 'row' }, copyButton(w.address, 'Copy address'),
        h('button', { type: 'button', class: 'btn small ghost danger', onclick: () => forget(w), 'aria-label': `Forget ${w.label}` }, 'Forget')));
  }));
  $('#wallet-empty').hidden = wallets.length > 0;
  const opts = (sel, placeholder) => {
    const el = $(sel);
    const prev = el.value;
    replace(el, placeholder ? h('option', { value: '' }, placeholder) : null,
      wallets.map((w) => h('option', { value: w.address }, `${w.label} (${shortAddr(w.address)})`)));
    if (wallets.some((w) => w.address === prev)) el.value = prev;
  };
  opts('#buy-wallet');
  opts('#send-from');
  opts('#send-to-wallet', 'Choose a wallet…');
}

async function refresh() {
  await Promise.all(wallets.map(async (w) => {
    try {
      const b = await api('', `/balances/${w.address}`);
      w.balance = b.balance;
      w.spendable = b.spendable;
      if (w.balanceCell) {
        w.balanceCell.textContent = fmtInt(b.balance);
        w.spendableCell.textContent = fmtInt(b.spendable);
      }
    } catch (e) {
      console.warn('balance:', e.message);
    }
  }));
  await Promise.all(activity.filter((a) => a.status === 'pending').map(async (a) => {
    try {
      const v = await api(a.base || '', `/txs/${a.id}?from=${a.from}`); // ids are unique per sender
      if (v.status !== a.status) {
        a.status = v.status;
        a.height = v.height;
        renderActivity(a);
      }
    } catch (e) {
      if (e.status === 404) {
        a.status = 'dropped';
        renderActivity(a);
      }
    }
  }));
}

function setResult(sel, text, ok, ...extra) {
  const el = $(sel);
  el.className = 'result ' + (ok ? 'ok' : 'bad');
  replace(el, text, ...extra);
}

function fieldError(form, e) {
  const map = { number: '#card-number', cvv: '#card-cvv', expiry: '#card-expiry', holder: '#card-holder' };
  const sel = map[e.field] || `${form} [name="${e.field}"]`;
  const el = $(sel);
  if (el) {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
  }
}

function clearInvalid(form) {
  for (const el of document.querySelectorAll(`${form} [aria-invalid]`)) el.removeAttribute('aria-invalid');
}

function walletOf(sel) {
  const w = wallets.find((x) => x.address === $(sel).value);
  if (!w) throw new FieldError('wallet', 'Create a wallet first.');
  return w;
}

async function buy() {
  clearInvalid('#buy-form');
  const btn = $('#buy-submit');
  btn.disabled = true;
  try {
    const w = walletOf('#buy-wallet');
    const amount = checkAmount($('#buy-amount').value, 'amount');
    const fee = checkAmount($('#buy-fee').value, 'fee', { min: 0 });
    const input = { number: $('#card-number').value, expiry: $('#card-expiry').value, cvv: $('#card-cvv').value, holder: $('#card-holder').value };
    const card = await makeCard(input);
    const tx = await newMint(w, card, amount, fee);
    await submitMint(tx, input);
    $('#card-cvv').value = '';
    track(tx, `Bought ${fmtInt(amount)} for ${w.label} with card ${card.masked}`);
    setResult('#buy-result', `Sent: ${fmtInt(amount)} coins for ${w.label}, pending until the next block. `, true, txAnchor(tx.id));
  } catch (e) {
    if (e instanceof FieldError) fieldError('#buy-form', e);
    setResult('#buy-result', e.message, false);
  } finally {
    btn.disabled = false;
  }
}

async function send() {
  clearInvalid('#send-form');
  const btn = $('#send-submit');
  btn.disabled = true;
  try {
    const w = walletOf('#send-from');
    const to = $('#send-to').value.trim().toLowerCase();
    if (!isAddress(to)) throw new FieldError('to', 'The recipient must be an address: the hex of an RSA public key.');
    const amount = checkAmount($('#send-amount').value, 'amount');
    const fee = checkAmount($('#send-fee').value, 'fee', { min: 0 });
    const tx = await newTransfer(w, to, amount, fee);
    const base = $('#send-node')?.value || ''; // the fork lab: another side of a cut
    await submit(tx, base);
    const dest = walletLabel(to) || shortAddr(to);
    track(tx, `Sent ${fmtInt(amount)} from ${w.label} to ${dest}`, base);
    setResult('#send-result', `Sent ${fmtInt(amount)} to ${dest}, pending until the next block. `, true, txAnchor(tx.id));
  } catch (e) {
    if (e instanceof FieldError) fieldError('#send-form', e);
    setResult('#send-result', e.message, false);
  } finally {
    btn.disabled = false;
  }
}

function txAnchor(id) {
  return h('a', { class: 'mono', href: `#/explorer/tx/${id}` }, `tx ${id.slice(0, 8)}…`);
}

// A card purchase travels with the card number and CVV so that the node can
// check the number and that the signed card fields derive from it; the node
// neither stores nor relays them.
async function submitMint(tx, input) {
  return submit({ ...tx, card_number: input.number, card_cvv: input.cvv.trim() });
}

async function submit(body, base = '') {
  try {
    return await api(base, '/txs', { method: 'POST', body });
  } catch (e) {
    throw new Error(`The node refused the transaction: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  }
}

function track(tx, text, base = '') {
  const a = { id: tx.id, from: tx.from, text, status: 'pending', at: Date.now(), base };
  activity.unshift(a);
  renderActivity(a);
}

function renderActivity(a) {
  const li = h('li', { dataset: { txId: a.id, status: a.status } },
    h('span', { class: `tag ${a.status === 'dropped' ? 'dropped' : a.status}` }, a.status === 'confirmed' ? `confirmed in #${a.height}` : a.status),
    h('span', null, a.text), txAnchor(a.id), h('span', { class: 'muted' }, fmtTime(a.at)),
    a.status === 'dropped' ? h('span', { class: 'why note' }, state.conflicts.get(a.id) || 'neither pending nor on the best chain of the node it was sent to') : null);
  if (a.li) a.li.replaceWith(li);
  else $('#wallet-activity').prepend(li);
  a.li = li;
  $('#activity-empty').hidden = true;
}
