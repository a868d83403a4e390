// The staff console: the live list of conversations and the handoff queue
// (GET /console/api/conversations, then SSE /console/api/events), and one
// open conversation with its live transcript and the staff actions. Every
// POST carries the session's X-CSRF-Token. No build step, no library.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const REASONS = {
    asked: 'asked for a person', no_reply: 'no reply (timeouts)', unclear: 'unclear replies',
    parcel_missing: 'parcel missing', model_down: 'model down', staff: 'taken over by staff',
  };
  const ENDED = new Set(['signed', 'expired', 'failed']);
  const st = {
    me: null,            // {name, role, csrf}
    sums: new Map(),     // session -> summary
    open: '',            // the open conversation
    conv: null,          // its detail
    lines: [],           // its transcript by seq
    shownAt: new Map(),  // seq -> performance.now() when shown (for the speed test)
    live: false,
  };
  window.signoffConsole = st;

  async function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({}, opts.headers || {});
    if (opts.method && opts.method !== 'GET') {
      headers['X-CSRF-Token'] = st.me ? st.me.csrf : '';
      headers['Content-Type'] = 'application/json';
    }
    return fetch('/console/api' + path, Object.assign({ cache: 'no-store', credentials: 'same-origin' }, opts, { headers }));
  }

  // ---- Signing in ----------------------------------------------------------

  async function start() {
    $('signin').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    $('claim').addEventListener('click', () => act('claim'));
    $('handback').addEventListener('click', () => act('handback'));
    $('release').addEventListener('click', () => act('release'));
    $('video-start').addEventListener('click', startVideo);
    $('say').addEventListener('submit', (e) => { e.preventDefault(); writeText('say', $('say-text')); });
    $('note').addEventListener('submit', (e) => { e.preventDefault(); writeText('notes', $('note-text')); });
    const res = await api('/me');
    if (res.ok) { st.me = await res.json(); enter(); } else showSignIn();
  }

  function showSignIn() {
    $('app').hidden = true;
    $('signin').hidden = false;
    $('who').hidden = true;
    $('signout').hidden = true;
    $('name').focus();
  }

  async function signIn(e) {
    e.preventDefault();
    const err = $('signin-error');
    err.hidden = true;
    const res = await api('/signin', {
      method: 'POST', body: JSON.stringify({ name: $('name').value, password: $('password').value }),
    });
    if (!res.ok) {
      let msg = 'Sign-in failed.';
      try { msg = (await res.json()).error.message; } catch (_) { /* keep */ }
      err.textContent = msg;
      err.hidden = false;
      return;
    }
    st.me = await res.json();
    $('password').value = '';
    enter();
  }

  async function signOut() {
    await api('/signout', { method: 'POST' });
    location.reload();
  }

  function enter() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who').textContent = st.me.name + ' (' + st.me.role + ')';
    $('signout').hidden = false;
    loadList().then(watch);
    setInterval(renderList, 1000); // wait times
  }

  // ---- The list --------------------------------------------------------------

  async function loadList() {
    const res = await api('/conversations');
    if (res.status === 401) { showSignIn(); return; }
    if (!res.ok) return;
    const l = await res.json();
    for (const s of l.conversations) merge(s);
    renderList();
  }

  function merge(s) {
    const old = st.sums.get(s.session);
    if (old && old.updated_at > s.updated_at) return;
    if (!s.channel && old) s.channel = old.channel;
    st.sums.set(s.session, s);
  }

  function watch() {
    const es = new EventSource('/console/api/events');
    es.onopen = () => { st.live = true; loadList(); };
    es.onerror = () => { st.live = false; };
    es.addEventListener('summary', (e) => {
      const s = JSON.parse(e.data);
      merge(s);
      renderList();
      if (s.session === st.open) renderDetailState(s);
    });
  }

  function wait(s) {
    const since = s.state === 'handoff' && s.handoff_at ? s.handoff_at : s.updated_at;
    const secs = Math.max(0, Math.round((Date.now() - new Date(since)) / 1000));
    return secs < 60 ? secs + ' s' : secs < 3600 ? Math.floor(secs / 60) + ' min' : Math.floor(secs / 3600) + ' h';
  }

  function cell(tr, text) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
    return td;
  }

  function openButton(tr, s) {
    const td = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Open';
    b.dataset.session = s.session;
    b.setAttribute('aria-label', 'Open ' + s.delivery);
    b.addEventListener('click', () => openConversation(s.session));
    td.append(b);
    tr.append(td);
  }

  function renderList() {
    const all = [...st.sums.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    const queue = all.filter((s) => s.state === 'handoff')
      .sort((a, b) => (a.handoff_at < b.handoff_at ? -1 : 1));
    const q = $('queue');
    q.textContent = '';
    for (const s of queue) {
      const tr = document.createElement('tr');
      tr.dataset.session = s.session;
      cell(tr, wait(s));
      cell(tr, REASONS[s.handoff_reason] || s.handoff_reason || '');
      cell(tr, s.delivery);
      cell(tr, s.staff || '—');
      openButton(tr, s);
      q.append(tr);
    }
    $('queue-count').textContent = '(' + queue.length + ')';
    const a = $('all');
    a.textContent = '';
    for (const s of all) {
      const tr = document.createElement('tr');
      tr.dataset.session = s.session;
      tr.dataset.state = s.state;
      cell(tr, s.delivery);
      cell(tr, s.state + (s.staff ? ' (' + s.staff + ')' : ''));
      cell(tr, s.outcome || '—');
      cell(tr, s.channel || '—');
      cell(tr, ENDED.has(s.state) ? '—' : wait(s));
      openButton(tr, s);
      a.append(tr);
    }
    $('all-count').textContent = '(' + all.length + ')';
  }

  // ---- One conversation ------------------------------------------------------

  let stream = null;
  async function openConversation(sid) {
    if (stream) stream.close();
    st.open = sid;
    st.lines = [];
    st.shownAt = new Map();
    $('transcript').textContent = '';
    const es = new EventSource('/console/api/conversations/' + encodeURIComponent(sid) + '/stream');
    stream = es;
    es.addEventListener('line', (e) => {
      const p = JSON.parse(e.data);
      addLine(p.seq, p.message);
    });
    await new Promise((resolve) => { es.onopen = resolve; setTimeout(resolve, 3000); });
    const res = await api('/conversations/' + encodeURIComponent(sid));
    if (!res.ok) return;
    const c = await res.json();
    st.conv = c;
    c.transcript.forEach((m, i) => addLine(i, m));
    renderNotes(c.notes);
    renderDetailState(c);
    $('detail').hidden = false;
    $('detail-title').textContent = 'Conversation about ' + c.delivery;
    $('detail').focus();
  }

  function addLine(seq, m) {
    if (st.lines[seq]) return;
    st.lines[seq] = m;
    const li = document.createElement('li');
    li.className = m.from;
    li.dataset.seq = seq;
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = (m.from === 'staff' ? 'staff ' + (m.staff || '') : m.from) +
      (m.channel && m.from === 'recipient' ? ' (' + m.channel + ')' : '') +
      ' · ' + new Date(m.at).toLocaleTimeString();
    const p = document.createElement('p');
    p.textContent = m.text;
    li.append(who, p);
    if (m.image) {
      const img = document.createElement('img');
      img.src = m.image;
      img.alt = 'Proof photo';
      li.append(img);
    }
    const ol = $('transcript');
    let before = null;
    for (const el of ol.children) if (Number(el.dataset.seq) > seq) { before = el; break; }
    ol.insertBefore(li, before);
    if (!before) ol.scrollTop = ol.scrollHeight; // follow the conversation
    st.shownAt.set(seq, performance.now());
  }

  function renderDetailState(c) {
    if (st.conv) Object.assign(st.conv, { state: c.state, staff: c.staff || '', outcome: c.outcome });
    const mine = c.staff === st.me.name;
    const sup = st.me.role === 'supervisor';
    $('detail-state').textContent = 'State: ' + c.state + (c.outcome ? ' · outcome: ' + c.outcome : '') +
      (c.staff ? ' · held by ' + c.staff : '') + (c.handoff_reason ? ' · reason: ' + (REASONS[c.handoff_reason] || c.handoff_reason) : '');
    const ended = ENDED.has(c.state);
    $('claim').disabled = ended || !!c.staff;
    $('handback').disabled = ended || !c.staff || (!mine && !sup);
    $('release').disabled = ended || !c.staff || (!mine && !sup);
    $('say-text').disabled = $('say-btn').disabled = !mine || ended;
    // A video call: staff watch it on the video page, signed in by this
    // console's cookie.
    const delivery = (st.conv && st.conv.delivery) || c.delivery || '';
    $('video-start').disabled = ended || c.state === 'video';
    $('video-watch').hidden = c.state !== 'video';
    $('video-watch').href = '/v/' + encodeURIComponent(delivery) + '?role=staff';
  }

  // startVideo asks the delivery's courier for a video call (POST
  // /v1/deliveries/{delivery}/video, staff only).
  async function startVideo() {
    showError('');
    const res = await fetch('/v1/deliveries/' + encodeURIComponent(st.conv.delivery) + '/video', {
      method: 'POST', cache: 'no-store', credentials: 'same-origin', headers: { 'X-CSRF-Token': st.me.csrf },
    });
    if (!res.ok) {
      let msg = 'the video call did not start';
      try { msg = (await res.json()).error.message; } catch (_) { /* keep */ }
      showError(msg);
      return;
    }
    const r = await res.json();
    renderDetailState(Object.assign({}, st.conv, { state: r.state }));
  }

  function renderNotes(notes) {
    const ul = $('notes');
    ul.textContent = '';
    for (const n of notes) {
      const li = document.createElement('li');
      li.textContent = n.staff + ' · ' + new Date(n.at).toLocaleString() + ': ' + n.text;
      ul.append(li);
    }
  }

  function showError(text) {
    const el = $('action-error');
    el.hidden = !text;
    el.textContent = text || '';
  }

  async function act(what) {
    showError('');
    const res = await api('/conversations/' + encodeURIComponent(st.open) + '/' + what, { method: 'POST', body: '{}' });
    if (!res.ok) {
      let msg = what + ' failed';
      try { msg = (await res.json()).error.message; } catch (_) { /* keep */ }
      showError(msg);
      return;
    }
    const r = await res.json();
    renderDetailState(Object.assign({}, st.conv, r, { staff: r.staff || '' }));
    if (what === 'claim') $('say-text').focus();
  }

  async function writeText(what, input) {
    const text = input.value.trim();
    if (!text) return;
    showError('');
    const res = await api('/conversations/' + encodeURIComponent(st.open) + '/' + what, {
      method: 'POST', body: JSON.stringify({ text }),
    });
    if (!res.ok) {
      let msg = 'not sent';
      try { msg = (await res.json()).error.message; } catch (_) { /* keep */ }
      showError(msg);
      return;
    }
    input.value = '';
    if (what === 'notes') {
      const c = await (await api('/conversations/' + encodeURIComponent(st.open))).json();
      renderNotes(c.notes);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
