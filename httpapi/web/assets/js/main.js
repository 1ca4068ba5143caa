// The dashboard's entry point: routing between the four views, the poll
// loop, the event stream and the search box.

import { $ } from './dom.js';
import { refreshExplorer, search, showExplorer } from './explorer.js';
import { initLab, showTap } from './lab.js';
import { initLive } from './live.js';
import { initNetwork } from './network.js';
import { connectEvents, emit, on, pollNodes, state, syncChain } from './store.js';
import { initWallet } from './wallet.js';

const VIEWS = ['network', 'live', 'explorer', 'wallet', 'tap'];
const POLL_MS = 1000;

function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || 'network').split('/').map(decodeURIComponent);
  const view = VIEWS.includes(parts[0]) ? parts[0] : 'network';
  for (const v of VIEWS) {
    $(`#view-${v}`).hidden = v !== view;
    const link = document.querySelector(`.top nav a[data-view="${v}"]`);
    if (v === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `Pycotr — ${view[0].toUpperCase()}${view.slice(1)}`;
  if (view === 'explorer') showExplorer(parts.slice(1));
  if (view === 'tap') showTap();
}

async function poll() {
  let lastTip = null;
  for (;;) {
    try {
      await pollNodes();
      if (state.self.tip !== lastTip) {
        lastTip = state.self.tip;
        await syncChain();
        if (!$('#view-explorer').hidden) refreshExplorer();
      }
      emit('tick');
    } catch (e) {
      console.warn('poll:', e.message);
      const el = $('#live-status');
      el.dataset.state = 'down';
      el.textContent = 'Node unreachable';
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function init() {
  initNetwork();
  initLive();
  initLab();
  initWallet().catch((e) => console.warn('wallet:', e.message));
  on('live', (v) => {
    const el = $('#live-status');
    el.dataset.state = v;
    el.textContent = { live: 'Live', connecting: 'Connecting…', down: 'Stream closed' }[v];
  });
  $('#search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('#search');
    input.removeAttribute('aria-invalid');
    $('#search-error').hidden = true;
    try {
      const to = await search(input.value);
      if (!to) return;
      input.value = '';
      if (location.hash === to) route();
      else location.hash = to;
      $('#main').focus();
    } catch (err) {
      input.setAttribute('aria-invalid', 'true');
      const msg = $('#search-error');
      msg.textContent = err.message;
      msg.hidden = false;
      if (!location.hash.startsWith('#/explorer')) location.hash = '#/explorer';
    }
  });
  window.addEventListener('hashchange', route);
  route();
  connectEvents();
  poll();
}

init();
