// The courier page: the courier's deliveries with the recipient's choice
// live (SSE), a photo proof form per delivery, and the video call button.
(() => {
  'use strict';
  const en = (navigator.language || '').toLowerCase().startsWith('en');
  const T = en ? {
    title: 'My deliveries', loading: 'Loading…', none: 'No deliveries yet.', live: 'Live',
    choice: 'Recipient’s choice', status: 'Status', eta: 'ETA', notChosen: 'not chosen yet',
    photo: 'Photo proof', upload: 'Send photo', sent: 'Photo sent.', failed: 'The photo was not sent.',
    video: 'Video call with the recipient', bad: 'This link is not valid.',
    outcome: { deliver_now: 'Deliver now, will sign', leave_at_door: 'Leave at the door', pickup_station: 'Pickup station',
      locker: 'Parcel locker', reschedule: 'Deliver later', video: 'Video call', handoff: 'Talking to support' },
  } : {
    title: '我的派送', loading: '正在加载…', none: '暂时没有派送。', live: '实时',
    choice: '收件人的选择', status: '状态', eta: '预计送达', notChosen: '还没有选',
    photo: '拍照留证', upload: '上传照片', sent: '照片已上传。', failed: '照片没有上传成功。',
    video: '和收件人视频', bad: '这个链接无效。',
    outcome: { deliver_now: '送上门，本人签收', leave_at_door: '放门口', pickup_station: '放驿站/代收点',
      locker: '放快递柜', reschedule: '改约时间', video: '和快递员视频', handoff: '转人工' },
  };
  const $ = (id) => document.getElementById(id);
  const parts = location.pathname.split('/').filter(Boolean);
  const courier = decodeURIComponent(parts[1] || '');
  const token = new URLSearchParams(location.search).get('t') || '';
  const base = '/v1/couriers/' + encodeURIComponent(courier);
  const items = new Map();
  window.signoffCourier = { items };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(it) {
    items.set(it.delivery, it);
    let li = document.querySelector('li[data-delivery="' + CSS.escape(it.delivery) + '"]');
    const fresh = !li;
    if (fresh) {
      li = el('li', 'card');
      li.dataset.delivery = it.delivery;
      const h = el('h2', '', it.delivery);
      const dl = el('dl');
      for (const k of ['choice', 'status', 'eta']) {
        const d = el('div');
        d.append(el('dt', '', T[k]), el('dd', k));
        dl.append(d);
      }
      const form = el('form', 'proof');
      form.method = 'post';
      form.enctype = 'multipart/form-data';
      const id = 'photo-' + it.delivery.replace(/[^A-Za-z0-9_-]/g, '_');
      const label = el('label', '', T.photo);
      label.htmlFor = id;
      const input = el('input');
      Object.assign(input, { type: 'file', id, name: 'photo', accept: 'image/*' });
      input.setAttribute('capture', 'environment');
      const btn = el('button', 'btn', T.upload);
      btn.type = 'submit';
      const msg = el('p', 'msg');
      msg.setAttribute('role', 'status');
      form.append(label, input, btn, msg);
      form.addEventListener('submit', (e) => { e.preventDefault(); upload(it.delivery, form, msg); });
      const video = el('a', 'btn video', T.video);
      li.append(h, dl, form, video);
      $('deliveries').append(li);
    }
    const choice = li.querySelector('dd.choice');
    choice.textContent = it.outcome ? (T.outcome[it.outcome] || it.outcome) + (it.slot ? ' · ' + it.slot : '') : T.notChosen;
    choice.dataset.outcome = it.outcome || '';
    li.querySelector('dd.status').textContent = it.status || '—';
    let eta = '—';
    if (it.eta) {
      try { eta = new Date(it.eta).toLocaleString(en ? 'en' : 'zh-CN', { timeZone: it.time_zone || undefined, dateStyle: 'short', timeStyle: 'short' }); } catch (_) { eta = it.eta; }
    }
    li.querySelector('dd.eta').textContent = eta;
    li.querySelector('form.proof').action = it.proof_url;
    li.querySelector('a.video').href = it.video_url;
  }

  async function upload(delivery, form, msg) {
    const it = items.get(delivery);
    msg.textContent = '';
    try {
      const res = await fetch(it.proof_url, {
        method: 'POST', body: new FormData(form), headers: { 'Authorization': 'Bearer ' + token },
      });
      msg.textContent = res.ok ? T.sent : T.failed;
    } catch (_) {
      msg.textContent = T.failed;
    }
  }

  async function load() {
    const res = await fetch(base + '/deliveries', { headers: { 'Authorization': 'Bearer ' + token }, cache: 'no-store' });
    if (!res.ok) { $('status').textContent = T.bad; return false; }
    const l = await res.json();
    for (const it of l.deliveries) render(it);
    $('status').textContent = l.deliveries.length ? T.live : T.none;
    return true;
  }

  function start() {
    document.documentElement.lang = en ? 'en' : 'zh-CN';
    $('title').textContent = T.title;
    if (document.body.dataset.bad) return;
    $('status').textContent = T.loading;
    load().then((ok) => {
      if (!ok) return;
      const es = new EventSource(base + '/stream?t=' + encodeURIComponent(token));
      es.addEventListener('delivery', (e) => { render(JSON.parse(e.data)); $('status').textContent = T.live; });
      es.onopen = () => load();
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
