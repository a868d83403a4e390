// The video page of a delivery's call: join (WHIP style), show my camera
// and the others', and answer the server's renegotiation offers.
'use strict';
(() => {
  const T = {
    'zh-CN': {
      title: '视频验货', join: '加入视频', hangup: '挂断', other: 'English',
      ready: '点击“加入视频”开始。', camera: '正在打开摄像头…', connecting: '正在连接…',
      waiting: '已连接，等待对方加入…', live: '视频通话中', ended: '视频已结束。', failed: '连接失败，请重试。',
      recipient: '收件人', courier: '快递员', staff: '客服',
    },
    en: {
      title: 'Video check', join: 'Join video', hangup: 'Hang up', other: '中文',
      ready: 'Press “Join video” to start.', camera: 'Opening the camera…', connecting: 'Connecting…',
      waiting: 'Connected; waiting for the other side…', live: 'On video', ended: 'The video call has ended.', failed: 'Could not connect; please try again.',
      recipient: 'Recipient', courier: 'Courier', staff: 'Staff',
    },
  };
  const q = new URLSearchParams(location.search);
  const role = q.get('role') || 'recipient';
  // Staff opening the page from the console come with its cookie and no
  // token: the join carries the console session's CSRF token, and a secret
  // of this page's own becomes the peer's credential for what follows.
  let token = q.get('t') || '';
  let csrf = '';
  async function consoleSession() {
    if (role !== 'staff' || token) return;
    const res = await fetch('/console/api/me', { cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) throw new Error('sign in to the staff console first');
    csrf = (await res.json()).csrf;
    const b = crypto.getRandomValues(new Uint8Array(24));
    token = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  const delivery = decodeURIComponent(location.pathname.split('/').pop());
  let lang = (q.get('lang') || navigator.language || 'zh-CN').toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
  const $ = (id) => document.getElementById(id);
  const state = {
    role, phase: 'ready', offerAt: 0, answerAt: 0, firstFrame: {}, remotes: [], revs: 0, error: '',
    stats: { video: {}, audioBytes: 0, audioEnergy: 0, packetsSent: 0 },
  };
  window.signoff = { state, join, hangup };
  let pc = null, es = null, loc = '', local = null, chain = Promise.resolve(), lastRev = 0, statsTimer = 0;

  function render() {
    const t = T[lang];
    document.documentElement.lang = lang;
    $('title').textContent = t.title;
    $('join').textContent = t.join;
    $('hangup').textContent = t.hangup;
    $('lang').textContent = t.other;
    $('status').textContent = state.error ? t.failed : t[state.phase] || '';
    for (const f of document.querySelectorAll('#remotes figcaption')) f.textContent = t[f.dataset.role] || f.dataset.role;
    $('join').disabled = state.phase !== 'ready' && state.phase !== 'ended';
    $('hangup').disabled = !pc;
    $('local').hidden = role === 'staff';
  }
  function set(phase) { state.phase = phase; render(); }
  const auth = () => ({ Authorization: 'Bearer ' + token });

  function gathered(p) {
    if (p.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (p.iceGatheringState === 'complete') resolve(); };
      p.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000);
    });
  }

  function onTrack(e) {
    const stream = e.streams[0];
    if (!stream) return;
    const id = stream.id;
    let v = document.querySelector(`video[data-stream="${CSS.escape(id)}"]`);
    if (!v) {
      const fig = document.createElement('figure');
      v = document.createElement('video');
      v.autoplay = true; v.playsInline = true; v.dataset.stream = id;
      const cap = document.createElement('figcaption');
      cap.dataset.role = id.replace(/^signoff-/, '');
      fig.append(v, cap);
      $('remotes').append(fig);
      state.remotes.push(id);
      const first = () => { if (!state.firstFrame[id]) state.firstFrame[id] = Date.now(); set('live'); };
      if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(first); else v.addEventListener('playing', first, { once: true });
    }
    v.srcObject = stream;
    v.play().catch(() => {});
  }

  async function join() {
    state.error = '';
    try {
      await consoleSession();
      pc = new RTCPeerConnection();
      pc.ontrack = onTrack;
      pc.onconnectionstatechange = () => {
        if (pc && pc.connectionState === 'connected' && state.phase === 'connecting') set('waiting');
        if (pc && pc.connectionState === 'failed') { state.error = 'ice'; render(); }
      };
      if (role === 'staff') {
        // Both sides' video and audio: all four fit the first answer.
        for (const k of ['video', 'audio', 'video', 'audio']) pc.addTransceiver(k, { direction: 'recvonly' });
      } else {
        set('camera');
        local = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
        $('local').srcObject = local;
        for (const t of local.getTracks()) {
          // An inspection needs detail: under load, lower the frame rate
          // before the resolution.
          if (t.kind === 'video') t.contentHint = 'detail';
          pc.addTransceiver(t, { direction: 'sendrecv', streams: [local] });
        }
      }
      set('connecting');
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      state.offerAt = Date.now();
      const res = await fetch(`/v1/rooms/${encodeURIComponent(delivery)}/join?role=${encodeURIComponent(role)}`, {
        method: 'POST', headers: { 'Content-Type': 'application/sdp', ...auth(), ...(csrf ? { 'X-CSRF-Token': csrf } : {}) },
        body: pc.localDescription.sdp,
      });
      if (res.status !== 201) throw new Error('join: ' + res.status + ' ' + (await res.text()));
      loc = new URL(res.headers.get('Location'), res.url).href;
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      state.answerAt = Date.now();
      es = new EventSource(loc + '/events?t=' + encodeURIComponent(token));
      es.addEventListener('offer', (ev) => { chain = chain.then(() => renegotiate(JSON.parse(ev.data))).catch(fail); });
      es.addEventListener('closed', () => stop('ended'));
      statsTimer = setInterval(stats, 500);
      render();
    } catch (err) { fail(err); }
  }

  async function renegotiate(o) {
    if (!pc || o.rev <= lastRev) return;
    lastRev = o.rev;
    await pc.setRemoteDescription({ type: 'offer', sdp: o.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    const res = await fetch(loc + '/answer?rev=' + o.rev, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp', ...auth() }, body: pc.localDescription.sdp,
    });
    if (res.status !== 204) throw new Error('answer: ' + res.status + ' ' + (await res.text()));
    state.revs = o.rev;
  }

  async function stats() {
    if (!pc) return;
    const s = { video: {}, audioBytes: 0, audioEnergy: 0, packetsSent: 0 };
    const r = await pc.getStats();
    r.forEach((x) => {
      if (x.type === 'inbound-rtp' && x.kind === 'video') {
        s.video[x.trackIdentifier || x.id] = { framesDecoded: x.framesDecoded || 0, width: x.frameWidth || 0, height: x.frameHeight || 0 };
      } else if (x.type === 'inbound-rtp' && x.kind === 'audio') {
        s.audioBytes += x.bytesReceived || 0;
        s.audioEnergy += x.totalAudioEnergy || 0;
      } else if (x.type === 'outbound-rtp') {
        s.packetsSent += x.packetsSent || 0;
      }
    });
    state.stats = s;
  }

  function fail(err) {
    state.error = String(err && err.message || err);
    console.warn('video:', state.error);
    render();
  }

  function stop(phase) {
    clearInterval(statsTimer);
    if (es) es.close();
    if (pc) pc.close();
    if (local) for (const t of local.getTracks()) t.stop();
    pc = null; es = null; local = null;
    set(phase);
  }

  async function hangup() {
    if (loc) await fetch(loc, { method: 'DELETE', headers: auth() }).catch(() => {});
    loc = '';
    stop('ended');
  }

  $('join').addEventListener('click', join);
  $('hangup').addEventListener('click', hangup);
  $('lang').addEventListener('click', () => { lang = lang === 'en' ? 'zh-CN' : 'en'; render(); });
  render();
  if (q.get('auto') === '1') join();
})();
