// The Pycotr protocol as a browser speaks it: canonical signing bytes,
// card fields, wallet keys and signatures. Mirrors chain/tx.go,
// chain/card.go and chain/keys.go exactly (see docs/PROTOCOL.md); the
// dashboard test checks the two against each other.

export const SIGNING_VERSION = 'pycotr-tx-v2';
export const MAX_AMOUNT = 2 ** 50;

const enc = new TextEncoder();

/** The canonical string a wallet signs (chain.Tx.SigningBytes). */
export function signingString(tx) {
  const c = tx.card || {};
  const fields = [
    ['type', tx.type],
    ['id', tx.id],
    ['from', tx.from || ''],
    ['to', tx.to || ''],
    ['amount', intString(tx.amount)],
    ['fee', intString(tx.fee)],
    ['card_masked', c.masked || ''],
    ['card_expiry', c.expiry || ''],
  ];
  let s = SIGNING_VERSION + '\n';
  for (const [name, value] of fields) s += name + ':' + value + '\n';
  return s;
}

/** The signing bytes: the UTF-8 encoding of signingString. */
export function signingBytes(tx) {
  return enc.encode(signingString(tx));
}

function intString(n) {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${n}`);
  return String(n);
}

export function toHex(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export async function sha256Hex(text) {
  return toHex(await crypto.subtle.digest('SHA-256', enc.encode(text)));
}

/** An input error naming the form field at fault. */
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

export function onlyDigits(s) {
  return String(s).replace(/[^0-9]/g, '');
}

export function luhn(digits) {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function daysIn(year, month) {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** YYYY-MM-DD, or YYYY-MM meaning the month's last day → YYYY-MM-DD. */
export function normalizeExpiry(s) {
  s = String(s).trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const [y, mo, d] = [+m[1], +m[2], +m[3]];
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo)) return s;
  }
  m = /^(\d{4})-(\d{2})$/.exec(s);
  if (m) {
    const [y, mo] = [+m[1], +m[2]];
    if (mo >= 1 && mo <= 12) return `${m[1]}-${m[2]}-${String(daysIn(y, mo)).padStart(2, '0')}`;
  }
  throw new FieldError('expiry', `card expiry "${s}": want YYYY-MM or YYYY-MM-DD`);
}

// Go's strings.TrimSpace: Unicode white space at both ends.
const goSpace = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const trimRe = new RegExp(`^${goSpace}+|${goSpace}+$`, 'gu');
const trimSpace = (s) => String(s).replace(trimRe, '');

/**
 * Checks a typed card as chain.NewCard does and returns what the chain
 * stores: {masked, expiry} (never the number, the CVV, the holder or a
 * digest of the number). Throws FieldError.
 */
export async function makeCard({ number, expiry, cvv }) {
  const digits = onlyDigits(number);
  if (digits.length < 12 || digits.length > 19 || !luhn(digits)) {
    throw new FieldError('number', 'card number: not a valid card number (12–19 digits, Luhn check)');
  }
  const c = onlyDigits(cvv);
  if (c.length < 3 || c.length > 4 || c !== trimSpace(cvv)) {
    throw new FieldError('cvv', 'card CVV must be 3 or 4 digits');
  }
  const exp = normalizeExpiry(expiry);
  return {
    masked: '*'.repeat(digits.length - 4) + digits.slice(-4),
    expiry: exp,
  };
}

export const KEY_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/** Whether this page may use WebCrypto (https, localhost or 127.0.0.1). */
export function cryptoAvailable() {
  return !!(globalThis.isSecureContext && globalThis.crypto && crypto.subtle && crypto.randomUUID);
}

/**
 * A new wallet: an RSA key pair whose private key cannot be exported, and
 * its address (lowercase hex of the public key's DER SubjectPublicKeyInfo).
 */
export async function generateWallet() {
  const pair = await crypto.subtle.generateKey(KEY_ALGORITHM, false, ['sign', 'verify']);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, address: await addressOf(pair.publicKey) };
}

export async function addressOf(publicKey) {
  return toHex(await crypto.subtle.exportKey('spki', publicKey));
}

/** Signs the transaction's signing bytes; sets and returns tx.signature. */
export async function signTx(privateKey, tx) {
  const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey, signingBytes(tx));
  tx.signature = toHex(sig);
  return tx;
}

export function checkAmount(v, field, { min = 1 } = {}) {
  const s = String(v).trim();
  if (!/^\d+$/.test(s)) throw new FieldError(field, `${field} must be a whole number`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min || n > MAX_AMOUNT) {
    throw new FieldError(field, `${field} must be between ${min} and ${MAX_AMOUNT}`);
  }
  return n;
}

/** A signed card purchase crediting the wallet's own address. */
export async function newMint(wallet, card, amount, fee) {
  const tx = { type: 'mint', id: crypto.randomUUID(), from: wallet.address, to: wallet.address, amount, fee, card };
  return signTx(wallet.privateKey, tx);
}

/** A signed transfer. */
export async function newTransfer(wallet, to, amount, fee) {
  const tx = { type: 'transfer', id: crypto.randomUUID(), from: wallet.address, to, amount, fee };
  return signTx(wallet.privateKey, tx);
}

/** Whether s looks like an address (hex, long enough for an RSA key). */
export function isAddress(s) {
  return /^[0-9a-f]+$/.test(s) && s.length >= 200 && s.length % 2 === 0;
}
