// The recipient page: the sign-off conversation of one session, by buttons,
// typing or a voice call. It talks to the chat API (GET/POST
// /v1/sessions/{id}..., the SSE stream) and to the call endpoint
// (POST /v1/sessions/{id}/call, WHIP style). No build step, no library.
//
// Hooks for tests and support live on window.signoff: state (kept current),
// lastRemoteRMS() and peakRemoteRMS() (the call's incoming audio level).
(() => {
  'use strict';

  // Every UI string, in both languages. The bot's own words come from the
  // server in the session's language. This block is strict JSON: a Go test
  // checks that both languages have the same keys.
  const UI = /*ui-strings*/{
    "zh-CN": {
      "title": "签收助手",
      "switchTo": "English",
      "switchLabel": "Switch to English",
      "loading": "正在打开…",
      "statusTitle": "快递进度",
      "stateLabel": "进度",
      "outcomeLabel": "您的选择",
      "latestTitle": "最新消息",
      "menuTitle": "请点一个数字",
      "chosenMark": "已选",
      "textLabel": "也可以打字回复",
      "send": "发送",
      "sending": "正在发送…",
      "sendFailed": "没有发出去，请再试一次。",
      "offline": "网络断了，请检查网络后再试。",
      "liveLost": "网络断了，正在重新连接…",
      "callTitle": "打电话说",
      "call": "打电话",
      "hangup": "挂断",
      "keypadShow": "显示拨号键盘",
      "keypadHide": "收起拨号键盘",
      "keypadTitle": "拨号键盘",
      "keypadHintChat": "没在通话时，按数字会直接发送这个数字。",
      "keyStar": "星号",
      "keyHash": "井号",
      "dialed": "已按：",
      "call.idle": "没有通话",
      "call.connecting": "正在接通，请稍等…",
      "call.in_call": "通话中。请说话，或按数字键。",
      "call.reconnecting": "信号不好，正在重新连接…",
      "call.ended": "通话已结束",
      "call.failed": "电话没有接通，请再试一次，或用上面的数字按钮。",
      "call.unavailable": "现在不能打电话，请用上面的数字按钮。",
      "call.mic_denied": "不能使用麦克风。请允许本页使用麦克风，然后再点“打电话”。",
      "call.unsupported": "这个浏览器不能打电话，请用上面的数字按钮。",
      "historyTitle": "对话记录",
      "from.bot": "签收助手",
      "from.staff": "客服",
      "from.recipient": "我",
      "channel.voice": "（语音）",
      "channel.dtmf": "（按键）",
      "channel.sms": "（短信）",
      "state.awaiting_choice": "等您选择",
      "state.confirming": "等您确认",
      "state.arranged": "已安排好",
      "state.awaiting_receipt": "快递员说已送达，请确认",
      "state.signed": "已签收",
      "state.handoff": "已转人工客服",
      "state.video": "视频通话中",
      "state.expired": "已结束",
      "state.failed": "这次没能送达",
      "outcome.none": "还没有选",
      "outcome.deliver_now": "送上门，本人签收",
      "outcome.leave_at_door": "放门口",
      "outcome.pickup_station": "放驿站/代收点",
      "outcome.locker": "放快递柜",
      "outcome.reschedule": "改约时间",
      "outcome.video": "和快递员视频",
      "outcome.handoff": "转人工",
      "fail.link.title": "这个链接无效或已过期。",
      "fail.link.text": "请打开短信里最新的链接，或直接联系快递员。",
      "fail.unavailable.title": "服务暂时忙。",
      "fail.unavailable.text": "请过一会儿再打开这个链接。",
      "staffJoined": "人工客服已接入，正在为您服务",
      "parcelLabel": "快递状态",
      "etaLabel": "预计送达",
      "videoJoin": "加入视频通话",
      "proofAlt": "快递员拍的送达照片",
      "parcel.out_for_delivery": "派送中",
      "parcel.arriving": "快到了",
      "parcel.delivered": "已送达",
      "parcel.failed": "派送失败"
    },
    "en": {
      "title": "Parcel sign-off",
      "switchTo": "中文",
      "switchLabel": "切换到中文",
      "loading": "Opening…",
      "statusTitle": "Delivery progress",
      "stateLabel": "Progress",
      "outcomeLabel": "Your choice",
      "latestTitle": "Latest message",
      "menuTitle": "Tap a number",
      "chosenMark": "chosen",
      "textLabel": "Or type your reply",
      "send": "Send",
      "sending": "Sending…",
      "sendFailed": "It was not sent. Please try again.",
      "offline": "No connection. Please check your network and try again.",
      "liveLost": "Connection lost, reconnecting…",
      "callTitle": "Talk instead",
      "call": "Call",
      "hangup": "Hang up",
      "keypadShow": "Show the keypad",
      "keypadHide": "Hide the keypad",
      "keypadTitle": "Keypad",
      "keypadHintChat": "When you are not in a call, a number you press is sent at once.",
      "keyStar": "star",
      "keyHash": "hash",
      "dialed": "Pressed: ",
      "call.idle": "Not in a call",
      "call.connecting": "Connecting, please wait…",
      "call.in_call": "In a call. Speak, or press a number.",
      "call.reconnecting": "Weak signal, reconnecting…",
      "call.ended": "The call has ended",
      "call.failed": "The call did not connect. Please try again, or use the number buttons above.",
      "call.unavailable": "Calls are not available right now. Please use the number buttons above.",
      "call.mic_denied": "The microphone cannot be used. Please allow this page to use it, then tap Call again.",
      "call.unsupported": "This browser cannot make calls. Please use the number buttons above.",
      "historyTitle": "Conversation",
      "from.bot": "Sign-off assistant",
      "from.staff": "Support",
      "from.recipient": "Me",
      "channel.voice": " (spoken)",
      "channel.dtmf": " (keypad)",
      "channel.sms": " (text message)",
      "state.awaiting_choice": "Waiting for your choice",
      "state.confirming": "Waiting for you to confirm",
      "state.arranged": "Arranged",
      "state.awaiting_receipt": "The courier says it is delivered: please confirm",
      "state.signed": "Signed for",
      "state.handoff": "A person from support will help you",
      "state.video": "Video call",
      "state.expired": "Ended",
      "state.failed": "Delivery failed this time",
      "outcome.none": "Not chosen yet",
      "outcome.deliver_now": "Deliver now, I'll sign",
      "outcome.leave_at_door": "Leave at my door",
      "outcome.pickup_station": "Pickup station",
      "outcome.locker": "Parcel locker",
      "outcome.reschedule": "Deliver later",
      "outcome.video": "Video call with courier",
      "outcome.handoff": "Talk to a person",
      "fail.link.title": "This link is not valid or has expired.",
      "fail.link.text": "Please open the newest link in your text message, or contact the courier.",
      "fail.unavailable.title": "The service is busy.",
      "fail.unavailable.text": "Please open this link again in a minute.",
      "staffJoined": "A person from support has joined and is helping you",
      "parcelLabel": "Parcel",
      "etaLabel": "Expected",
      "videoJoin": "Join video call",
      "proofAlt": "The courier's photo of the delivered parcel",
      "parcel.out_for_delivery": "Out for delivery",
      "parcel.arriving": "Arriving soon",
      "parcel.delivered": "Delivered",
      "parcel.failed": "Delivery failed"
    }
  }/*end-ui-strings*/;

  // The main menu's keys and what each records, to mark the chosen button.
  const MENU_OUTCOME = {
    '1': 'deliver_now', '2': 'leave_at_door', '3': 'pickup_station', '4': 'locker',
    '5': 'reschedule', '6': 'video', '0': 'handoff',
  };
  const ENDED = new Set(['signed', 'expired', 'failed']);

  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const parts = location.pathname.split('/').filter(Boolean);
  const sid = decodeURIComponent(parts[1] || '');
  const token = new URLSearchParams(location.search).get('t') || '';
  const api = '/v1/sessions/' + encodeURIComponent(sid);

  const state = {
    ready: false,         // the session has been loaded once
    error: body.dataset.error || '',
    lang: pickLang(),
    session: { state: '', outcome: null, locale: body.dataset.locale || 'zh-CN', options: [], held: false, delivery: {}, delivery_id: '' },
    lines: 0,             // transcript lines shown
    busy: false,          // a message is being sent
    live: 'connecting',   // the SSE stream: connecting, live, lost
    call: 'idle',         // idle, connecting, in_call, reconnecting, ended, failed, unavailable, mic_denied, unsupported
    dialed: '',
  };
  const lines = [];       // the transcript by seq; holes are lines not yet fetched
  const shown = new Map(); // seq -> <li>

  function pickLang() {
    let l = '';
    try { l = localStorage.getItem('signoff.lang') || ''; } catch (_) { /* private mode */ }
    if (!l) l = body.dataset.locale || document.documentElement.lang || 'zh-CN';
    return l.toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
  }

  function t(key) {
    const s = UI[state.lang][key];
    return s === undefined ? UI['zh-CN'][key] || key : s;
  }

  // ---- Language ----------------------------------------------------------

  function applyLang() {
    document.documentElement.lang = state.lang;
    document.title = t('title') + ' · Signoff';
    for (const el of document.querySelectorAll('[data-i18n]')) {
      const key = el.dataset.i18n;
      if (el.id === 'call-state') continue; // renderCall owns it
      el.textContent = t(key);
    }
    for (const el of document.querySelectorAll('[data-i18n-label]')) {
      el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    }
    const btn = $('lang');
    if (btn) { // not on the server's invalid-link page, which shows both languages
      btn.textContent = t('switchTo');
      btn.lang = state.lang === 'en' ? 'zh-CN' : 'en';
      btn.setAttribute('aria-label', t('switchLabel'));
    }
    if (state.error) {
      showFail(state.error);
      return;
    }
    renderStatus();
    renderOptions();
    renderCall();
    renderKeypadToggle();
    for (const [seq, li] of shown) fillLine(li, lines[seq], seq);
    renderLive();
  }

  function switchLang() {
    state.lang = state.lang === 'en' ? 'zh-CN' : 'en';
    try { localStorage.setItem('signoff.lang', state.lang); } catch (_) { /* private mode */ }
    applyLang();
  }

  // ---- Failure -----------------------------------------------------------

  function showFail(kind) {
    state.error = kind;
    const app = $('app');
    if (app) app.hidden = true;
    const fail = $('fail');
    fail.hidden = false;
    const title = $('fail-title');
    if (title) { // the server rendered a failure page of its own otherwise
      title.textContent = t('fail.' + kind + '.title');
      $('fail-text').textContent = t('fail.' + kind + '.text');
    }
  }

  // ---- The session -------------------------------------------------------

  async function apiFetch(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ 'Authorization': 'Bearer ' + token }, opts.headers || {});
    return fetch(api + path, Object.assign({ cache: 'no-store' }, opts, { headers }));
  }

  let loading = null;
  let loadAgain = false;

  // refresh reloads the session; calls while one runs fold into one more.
  function refresh() {
    if (loading) { loadAgain = true; return loading; }
    loading = (async () => {
      do {
        loadAgain = false;
        await load();
      } while (loadAgain);
    })().finally(() => { loading = null; });
    return loading;
  }

  let refreshTimer = 0;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 120);
  }

  async function load() {
    let res;
    try {
      res = await apiFetch('');
    } catch (_) {
      state.live = 'lost';
      renderLive();
      return;
    }
    if (res.status === 401 || res.status === 404) { showFail('link'); return; }
    if (!res.ok) {
      if (!state.ready) showFail('unavailable');
      return;
    }
    const s = await res.json();
    state.session = {
      state: s.state, outcome: s.outcome || null,
      locale: s.locale || state.session.locale, options: s.options || [],
      held: !!s.held, delivery: s.delivery || {}, delivery_id: s.delivery_id || '',
    };
    (s.transcript || []).forEach((m, i) => { lines[i] = m; });
    if (!state.ready) {
      state.ready = true;
      $('loading').hidden = true;
      $('app').removeAttribute('aria-busy');
    }
    render();
  }

  function render() {
    renderStatus();
    renderLatest();
    renderOptions();
    renderTranscript();
  }

  function renderStatus() {
    const s = state.session;
    if (!s.state) return;
    $('state').textContent = t('state.' + s.state) || s.state;
    const out = $('outcome');
    out.textContent = t('outcome.' + (s.outcome || 'none'));
    out.classList.toggle('chosen', !!s.outcome);
    out.dataset.outcome = s.outcome || '';
    const d = s.delivery || {};
    $('parcel-row').hidden = !d.status;
    $('parcel').textContent = d.status ? (UI[state.lang]['parcel.' + d.status] || d.status) : '';
    $('eta-row').hidden = !d.eta;
    $('eta').textContent = d.eta ? formatETA(d.eta, d.time_zone) : '';
    const banner = $('staff-banner');
    banner.hidden = !(s.held && s.state === 'handoff');
    const video = $('video');
    video.hidden = s.state !== 'video' || !s.delivery_id;
    if (!video.hidden) {
      video.href = '/v/' + encodeURIComponent(s.delivery_id) + '?role=recipient&t=' + encodeURIComponent(token);
    }
  }

  // formatETA shows an RFC 3339 time in the recipient's zone: zone when
  // the server named one, else the offset the time was written with.
  function formatETA(eta, zone) {
    const at = new Date(eta);
    if (isNaN(at)) return eta;
    const opts = { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (zone) {
      try { return at.toLocaleString(state.lang, Object.assign({ timeZone: zone }, opts)); } catch (_) { /* unknown zone */ }
    }
    const m = /([+-])(\d\d):(\d\d)$/.exec(eta);
    const off = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : (/Z$/.test(eta) ? 0 : 480);
    return new Date(at.getTime() + off * 60000).toLocaleString(state.lang, Object.assign({ timeZone: 'UTC' }, opts));
  }

  function lastSaid() {
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = lines[i];
      if (m && m.from !== 'recipient') return m;
    }
    return null;
  }

  function renderLatest() {
    const m = lastSaid();
    const el = $('latest');
    const text = m ? m.text : '';
    if (el.textContent !== text) el.textContent = text;
  }

  function sameOptions(a, b) {
    return a.length === b.length && a.every((o, i) => o.key === b[i].key && o.label === b[i].label);
  }

  let shownOptions = [];
  function renderOptions() {
    const s = state.session;
    // While a person holds the conversation the bot's menu means nothing.
    const opts = ENDED.has(s.state) || (s.held && s.state === 'handoff') ? [] : (s.options || []);
    const menu = $('menu');
    const box = $('options');
    menu.hidden = opts.length === 0;
    if (!sameOptions(opts, shownOptions)) {
      const hadFocus = box.contains(document.activeElement);
      box.textContent = '';
      for (const o of opts) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'opt';
        b.dataset.key = o.key;
        const k = document.createElement('span');
        k.className = 'key';
        k.textContent = o.key;
        const l = document.createElement('span');
        l.className = 'label';
        l.textContent = o.label;
        const mark = document.createElement('span');
        mark.className = 'mark';
        b.append(k, l, mark);
        b.addEventListener('click', () => send(o.key));
        box.append(b);
      }
      shownOptions = opts.slice();
      if (hadFocus && opts.length) menu.focus();
    }
    // Mark the option already chosen, on the main menu only (where the keys
    // mean outcomes).
    const mainMenu = opts.some((o) => o.key === '5') && opts.some((o) => o.key === '6');
    for (const b of box.children) {
      const chosen = mainMenu && !!s.outcome && MENU_OUTCOME[b.dataset.key] === s.outcome;
      b.setAttribute('aria-current', chosen ? 'true' : 'false');
      b.querySelector('.mark').textContent = chosen ? '✓ ' + t('chosenMark') : '';
      b.disabled = state.busy;
    }
  }

  // fillLine shows message m in li; seq is its place in the transcript, or
  // undefined for a message still being sent.
  function fillLine(li, m, seq) {
    li.className = m.from;
    li.textContent = '';
    const who = document.createElement('span');
    who.className = 'who';
    let label = t('from.' + m.from);
    if (m.from === 'recipient' && m.channel && m.channel !== 'chat') label += t('channel.' + m.channel) || '';
    const at = m.at ? new Date(m.at) : null;
    if (at && !isNaN(at)) {
      label += ' · ' + at.toLocaleTimeString(state.lang, { hour: '2-digit', minute: '2-digit' });
    }
    who.textContent = label;
    const p = document.createElement('p');
    p.className = 'text';
    p.textContent = m.text;
    li.append(who, p);
    if (m.image && m.image.startsWith('/')) { // our own origin only
      const img = document.createElement('img');
      img.className = 'proof';
      // An <img> cannot send the Authorization header: the token rides in
      // the query, as for the event stream.
      img.src = m.image + (m.image.includes('?') ? '&' : '?') + 't=' + encodeURIComponent(token);
      img.alt = t('proofAlt');
      li.append(img);
    }
    if (seq !== undefined) li.dataset.seq = seq;
    if (m.channel) li.dataset.channel = m.channel;
  }

  function renderTranscript() {
    const ol = $('transcript');
    for (let i = 0; i < lines.length; i++) {
      const m = lines[i];
      if (!m || shown.has(i)) continue;
      const li = document.createElement('li');
      fillLine(li, m, i);
      // Keep seq order: before the first shown line with a greater seq,
      // and before any message still being sent.
      let before = null;
      for (const el of ol.children) {
        if (el.classList.contains('pending') || Number(el.dataset.seq) > i) { before = el; break; }
      }
      ol.insertBefore(li, before);
      shown.set(i, li);
    }
    state.lines = shown.size;
  }

  function renderLive() {
    const el = $('live');
    el.hidden = state.live !== 'lost';
    el.textContent = state.live === 'lost' ? t('liveLost') : '';
  }

  // ---- Sending -----------------------------------------------------------

  function setBusy(busy) {
    state.busy = busy;
    $('send').disabled = busy;
    $('app').setAttribute('aria-busy', busy ? 'true' : 'false');
    for (const b of $('options').children) b.disabled = busy;
    if (state.call !== 'in_call') {
      for (const b of $('keypad').children) if (b.dataset.key) b.disabled = busy;
    }
  }

  function sendError(text) {
    const el = $('send-error');
    el.hidden = !text;
    el.textContent = text || '';
  }

  async function send(text) {
    text = String(text).trim();
    if (!text || state.busy || state.error) return false;
    setBusy(true);
    sendError('');
    const pending = document.createElement('li');
    pending.className = 'recipient pending';
    fillLine(pending, { from: 'recipient', text, channel: 'chat', at: new Date().toISOString() });
    $('transcript').append(pending);
    let ok = false;
    try {
      const res = await apiFetch('/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      if (res.status === 401 || res.status === 404) { showFail('link'); return false; }
      if (!res.ok) { sendError(t('sendFailed')); return false; }
      const r = await res.json();
      state.session.state = r.state;
      state.session.outcome = r.outcome || null;
      for (const reply of r.replies || []) {
        if (reply.options && reply.options.length) state.session.options = reply.options;
      }
      renderStatus();
      ok = true;
      await refresh();
    } catch (_) {
      sendError(t('offline'));
    } finally {
      pending.remove();
      setBusy(false);
      renderOptions();
    }
    return ok;
  }

  // ---- Live updates ------------------------------------------------------

  let stream = null;
  function connectStream() {
    if (stream) stream.close();
    const es = new EventSource(api + '/stream?t=' + encodeURIComponent(token));
    stream = es;
    es.onopen = () => {
      state.live = 'live';
      renderLive();
      scheduleRefresh(); // whatever changed while we were away
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // The server refused (or the network is gone): find out which,
        // and try again later unless the link is dead.
        state.live = 'lost';
        renderLive();
        refresh().then(() => {
          if (!state.error) setTimeout(connectStream, 5000);
        });
      } else {
        state.live = 'lost';
        renderLive();
      }
    };
    es.addEventListener('message', (e) => {
      let d;
      try { d = JSON.parse(e.data); } catch (_) { return; }
      if (d && typeof d.seq === 'number' && d.message) {
        lines[d.seq] = d.message;
        if (d.message.options && d.message.options.length) state.session.options = d.message.options;
        renderLatest();
        renderOptions();
        renderTranscript();
      }
      scheduleRefresh(); // state, outcome, and the recipient's spoken lines
    });
  }

  // ---- Calling -----------------------------------------------------------

  const call = {
    pc: null, mic: null, location: '', audio: null, analyser: null, buf: null,
    rms: 0, peak: 0, meter: 0,
  };

  function setCall(s) {
    state.call = s;
    renderCall();
  }

  function renderCall() {
    const el = $('call-state');
    el.dataset.state = state.call;
    el.textContent = t('call.' + state.call);
    const active = state.call === 'connecting' || state.call === 'in_call' || state.call === 'reconnecting';
    // Keep the focus on the call control as it turns from one into the other.
    const focused = document.activeElement;
    $('call').hidden = active;
    $('hangup').hidden = !active;
    if (focused === $('call') && active) $('hangup').focus();
    if (focused === $('hangup') && !active) $('call').focus();
    $('level').hidden = state.call !== 'in_call';
    $('keypad-hint').hidden = state.call === 'in_call' || $('keypad').hidden;
    for (const b of $('keypad').children) if (b.dataset.key) {
      // * and # mean something only to a call.
      b.disabled = (b.dataset.key === '*' || b.dataset.key === '#') ? state.call !== 'in_call' : false;
    }
  }

  function renderKeypadToggle() {
    const open = !$('keypad').hidden;
    const b = $('keypad-toggle');
    b.setAttribute('aria-expanded', open ? 'true' : 'false');
    b.textContent = t(open ? 'keypadHide' : 'keypadShow');
    $('keypad-hint').hidden = !open || state.call === 'in_call';
  }

  function showKeypad(open) {
    $('keypad').hidden = !open;
    renderKeypadToggle();
  }

  function iceGathered(pc, ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (pc.iceGatheringState === 'complete') {
          pc.removeEventListener('icegatheringstatechange', done);
          clearTimeout(timer);
          resolve();
        }
      };
      // Without a complete gathering we still send what we have.
      const timer = setTimeout(() => {
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      }, ms);
      pc.addEventListener('icegatheringstatechange', done);
    });
  }

  async function startCall() {
    if (call.pc || state.error) return;
    if (!window.RTCPeerConnection || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setCall('unsupported');
      return;
    }
    setCall('connecting');
    // Audio may start only from a tap: make the context now, inside it.
    try {
      call.audio = new (window.AudioContext || window.webkitAudioContext)();
    } catch (_) { call.audio = null; }
    let mic;
    try {
      mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (_) {
      teardown();
      setCall('mic_denied');
      return;
    }
    const pc = new RTCPeerConnection();
    call.pc = pc;
    call.mic = mic;
    for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
    pc.ontrack = (e) => attachRemote(e.streams[0] || new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      if (call.pc !== pc) return;
      switch (pc.connectionState) {
        case 'connected':
          setCall('in_call');
          showKeypad(true);
          break;
        case 'disconnected':
          setCall('reconnecting');
          break;
        case 'failed':
        case 'closed':
          // A call that was up and went away was hung up (or lost) at the
          // other end; one that never came up failed.
          hangup(state.call === 'connecting' ? 'failed' : 'ended');
          break;
      }
    };
    let location = '';
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc, 4000);
      if (call.pc !== pc) return;
      const res = await fetch(api + '/call', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token },
        body: pc.localDescription.sdp,
      });
      if (res.status === 401) { teardown(); showFail('link'); return; }
      if (res.status !== 201) {
        teardown();
        setCall(res.status === 404 || res.status === 405 || res.status === 501 || res.status === 503 ? 'unavailable' : 'failed');
        return;
      }
      const loc = res.headers.get('Location');
      location = loc ? new URL(loc, res.url).href : '';
      const answer = await res.text();
      if (call.pc !== pc) { // hung up while the server answered
        if (location) deleteCall(location);
        return;
      }
      call.location = location;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (_) {
      if (call.pc === pc) {
        teardown();
        setCall('failed');
      }
      if (location && call.location !== location) deleteCall(location);
    }
  }

  function attachRemote(stream) {
    const el = $('remote');
    el.srcObject = stream;
    const p = el.play();
    if (p && p.catch) p.catch(() => {});
    if (!call.audio) return;
    try {
      if (call.audio.state === 'suspended') call.audio.resume();
      const src = call.audio.createMediaStreamSource(stream);
      const an = call.audio.createAnalyser();
      an.fftSize = 2048;
      src.connect(an); // not to the speakers: the <audio> element plays it
      call.analyser = an;
      call.buf = new Float32Array(an.fftSize);
      call.peak = 0;
      clearInterval(call.meter);
      call.meter = setInterval(sampleLevel, 50);
    } catch (_) { /* no level meter; the call still works */ }
  }

  function remoteRMS() {
    if (!call.analyser) return 0;
    call.analyser.getFloatTimeDomainData(call.buf);
    let sum = 0;
    for (const v of call.buf) sum += v * v;
    return Math.sqrt(sum / call.buf.length);
  }

  function sampleLevel() {
    call.rms = remoteRMS();
    if (call.rms > call.peak) call.peak = call.rms;
    // A loudness bar, so that a recipient who hears badly sees the bot talk.
    const level = Math.min(1, call.rms * 8);
    $('level-bar').style.transform = 'scaleX(' + level.toFixed(3) + ')';
  }

  function deleteCall(location) {
    return fetch(location, {
      method: 'DELETE', keepalive: true, headers: { 'Authorization': 'Bearer ' + token },
    }).catch(() => {});
  }

  function teardown() {
    const pc = call.pc;
    call.pc = null;
    if (pc) {
      pc.onconnectionstatechange = null;
      pc.ontrack = null;
      pc.close();
    }
    if (call.mic) for (const tr of call.mic.getTracks()) tr.stop();
    call.mic = null;
    clearInterval(call.meter);
    call.meter = 0;
    call.analyser = null;
    call.rms = 0;
    if (call.audio) call.audio.close().catch(() => {});
    call.audio = null;
    const el = $('remote');
    el.srcObject = null;
    $('level-bar').style.transform = 'scaleX(0)';
  }

  function hangup(end) {
    const location = call.location;
    call.location = '';
    teardown();
    setCall(end || 'ended');
    state.dialed = '';
    $('dialed').textContent = '';
    if (location) deleteCall(location);
  }

  function pressKey(key) {
    if (navigator.vibrate) { try { navigator.vibrate(25); } catch (_) { /* not allowed */ } }
    if (call.pc && state.call === 'in_call') {
      const sender = call.pc.getSenders()[0];
      if (sender && sender.dtmf && sender.dtmf.canInsertDTMF) {
        sender.dtmf.insertDTMF(key);
        state.dialed = (state.dialed + key).slice(-12);
        $('dialed').textContent = t('dialed') + state.dialed;
        return;
      }
    }
    if (/^[0-9]$/.test(key)) send(key);
  }

  // ---- Start -------------------------------------------------------------

  window.signoff = {
    state,
    lastRemoteRMS: () => (call.analyser ? remoteRMS() : 0),
    peakRemoteRMS: () => call.peak,
    resetPeak: () => { call.peak = 0; },
    send,
    pressKey,
  };

  function start() {
    if (state.error) { applyLang(); return; }
    $('lang').addEventListener('click', switchLang);
    $('composer').addEventListener('submit', async (e) => {
      e.preventDefault();
      const input = $('text');
      if (await send(input.value)) input.value = '';
      input.focus();
    });
    $('call').addEventListener('click', startCall);
    $('hangup').addEventListener('click', () => hangup('ended'));
    $('keypad-toggle').addEventListener('click', () => showKeypad($('keypad').hidden));
    for (const b of $('keypad').children) {
      if (b.dataset.key) b.addEventListener('click', () => pressKey(b.dataset.key));
    }
    window.addEventListener('pagehide', () => { if (call.location) deleteCall(call.location); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && state.ready) refresh();
    });
    applyLang();
    if (!sid || !token) { showFail('link'); return; }
    refresh().then(() => { if (!state.error) connectStream(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
