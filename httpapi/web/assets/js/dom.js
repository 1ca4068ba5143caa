// Small DOM helpers: element builders (text is always set as text, never
// parsed as HTML) and formatting.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function appendAll(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** First and last hex digits of a hash. */
export function shortHash(hash, n = 8) {
  if (!hash) return '';
  return hash.length <= 2 * n + 1 ? hash : hash.slice(0, n) + '…' + hash.slice(-4);
}

/**
 * A short form of an address. Every RSA address starts with the same DER
 * prefix and ends with the exponent (0203010001), so show the end of the
 * modulus instead, where keys differ.
 */
export function shortAddr(a) {
  if (!a) return '—';
  let x = a.endsWith('0203010001') ? a.slice(0, -10) : a;
  return '…' + x.slice(-12);
}

export function fmtInt(n) {
  return n == null ? '—' : Number(n).toLocaleString('en-US');
}

export function fmtTime(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function fmtDateTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleDateString('en-CA') + ' ' + d.toLocaleTimeString('en-GB', { hour12: false });
}

export function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** A button that copies text to the clipboard. */
export function copyButton(text, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `${label} to clipboard` }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Copy failed';
    }
    setTimeout(() => (b.textContent = label), 1500);
  });
  return b;
}
