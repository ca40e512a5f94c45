// The sandbox page: who you are, the channels you are in, your DM with the bot and your App Home,
// the bot's messages drawn from their Block Kit (blockkit.js), your modals and what only you see.
// Everything you do is POSTed to /api/act and reaches the bot as a signed Slack request.
// With window.SANDBOX_TRANSCRIPT set (a transcript file), it draws every conversation, read-only.
(function () {
  "use strict";
  const BK = window.BlockKit;
  const transcript = window.SANDBOX_TRANSCRIPT || null;
  let state = transcript;
  let focusTs = null; // a message to keep in view (opened from a link), until the person goes elsewhere
  let me = localStorage.getItem("sandbox.me") || "U0CSM";
  let where = localStorage.getItem("sandbox.where") || "C0SHARED";

  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function people() {
    const map = {};
    for (const p of state.people) map[p.id] = p;
    map[state.bot.id] = { id: state.bot.id, real_name: "onboard-bot", role: "app", side: "vendor" };
    return map;
  }

  function channelNames() {
    const map = {};
    for (const c of state.channels) map[c.id] = c.name;
    return map;
  }

  function person(id) {
    return people()[id] || { id, real_name: id, role: "", side: "vendor" };
  }

  function when(ts) {
    const d = new Date(Number(String(ts).split(".")[0]) * 1000);
    return d.toLocaleString("en-GB", { timeZone: state.tz || "America/New_York", weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  // One thing at a time, in the order they were done: a click while the clock is moving waits its turn.
  let queue = Promise.resolve();
  function act(body) {
    if (transcript) return Promise.resolve(null);
    const run = queue.then(() => send(body));
    queue = run.catch(() => null);
    return run;
  }

  async function send(body) {
    $("status").textContent = "sending to the bot…";
    try {
      const resp = await fetch("/api/act", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: me, ...body }) });
      const answer = await resp.json();
      $("status").textContent = answer.ok ? "bot answered " + (answer.status || 200) : "refused: " + (answer.error || answer.status);
      return answer;
    } catch (err) {
      $("status").textContent = "the sandbox is not answering";
      return null;
    } finally {
      await refresh();
    }
  }

  function ctxFor(extra) {
    return { people: people(), channels: channelNames(), act: transcript ? null : extra.act, form: extra.form || null, errors: extra.errors || null, openUrl };
  }

  // A link to a message in this workspace opens its channel here, scrolled to it; others open a new tab.
  function openUrl(url) {
    const found = /\/archives\/([A-Z0-9]+)\/p(\d+)/.exec(url);
    if (!found) {
      window.open(url, "_blank", "noopener");
      return;
    }
    const ts = found[2].slice(0, -6) + "." + found[2].slice(-6);
    where = found[1];
    localStorage.setItem("sandbox.where", where);
    focusTs = ts;
    draw();
  }

  // -- messages ----------------------------------------------------------------------------
  function messageNode(m, channel, opts) {
    const node = el("div", "msg" + (opts && opts.ephemeral ? " ephemeral" : ""));
    node.dataset.ts = m.ts;
    const fromBot = m.user === state.bot.id || m.bot_id;
    const who = fromBot ? person(state.bot.id) : person(m.user);
    const avatar = el("div", "avatar" + (fromBot ? "" : who.side === "customer" ? " person customer" : " person"), who.real_name.slice(0, 1).toUpperCase());
    node.appendChild(avatar);
    const body = el("div", "body");
    const line = el("div");
    line.appendChild(el("span", "who", who.real_name + (fromBot ? " (app)" : "")));
    line.appendChild(el("span", "when", when(m.ts)));
    if (m.edited) line.appendChild(el("span", "edited", "(edited)"));
    if (m.pinned_to) line.appendChild(el("span", "pinned", "📌 pinned"));
    body.appendChild(line);
    if (opts && opts.ephemeral) body.appendChild(el("div", "only-you", "Only visible to you"));
    const click = (action) => act(opts && opts.ephemeral ? { do: "click", channel, ephemeral: m.id, action } : { do: "click", channel, ts: m.ts, action });
    if (m.blocks && m.blocks.length) {
      body.appendChild(BK.renderBlocks(m.blocks, ctxFor({ act: click })));
    } else {
      const t = el("div", "bk-text");
      t.innerHTML = BK.mrkdwn(m.text, ctxFor({}));
      body.appendChild(t);
    }
    for (const f of m.files || []) {
      const file = el("a", "file", "📎 " + (f.title || f.name));
      const src = f.data_url || "/files/" + f.id;
      file.href = src;
      file.download = f.name || "";
      if (f.mimetype && f.mimetype.startsWith("image/")) {
        const img = el("img");
        img.src = src;
        img.style.maxWidth = "360px";
        img.style.display = "block";
        file.appendChild(img);
      }
      body.appendChild(file);
    }
    if (m.replies && m.replies.length) {
      const thread = el("details", "thread");
      if (transcript) thread.open = true;
      thread.appendChild(el("summary", null, m.replies.length + (m.replies.length === 1 ? " reply" : " replies")));
      for (const r of m.replies) thread.appendChild(messageNode(r, channel));
      body.appendChild(thread);
    }
    if (opts && opts.ephemeral && !transcript) {
      const dismiss = el("button", "bk-button", "Dismiss");
      dismiss.addEventListener("click", () => act({ do: "dismiss", ephemeral: m.id }));
      body.appendChild(dismiss);
    }
    node.appendChild(body);
    return node;
  }

  function conversation(channelId, title, about, messages, forUser) {
    const box = el("section", "conversation");
    box.dataset.channel = channelId;
    const head = el("div", "conv-head");
    head.appendChild(el("h2", null, title));
    if (about) head.appendChild(el("div", "about", about));
    box.appendChild(head);
    const list = el("div", "messages");
    const items = messages.map((m) => ({ m, ephemeral: false }));
    for (const e of (state.ephemerals[forUser] || []).filter((e) => e.channel === channelId)) items.push({ m: e, ephemeral: true });
    items.sort((a, b) => Number(a.m.ts) - Number(b.m.ts));
    if (!items.length) list.appendChild(el("div", "empty", "Nothing here yet."));
    for (const { m, ephemeral } of items) list.appendChild(messageNode(m, channelId, { ephemeral }));
    box.appendChild(list);
    return box;
  }

  function homeNode(user) {
    const box = el("section", "conversation");
    box.dataset.home = user;
    const head = el("div", "conv-head");
    head.appendChild(el("h2", null, "App Home of " + person(user).real_name));
    box.appendChild(head);
    const view = state.homes[user];
    const body = el("div", "home");
    if (view) body.appendChild(BK.renderBlocks(view.blocks, ctxFor({ act: (action) => act({ do: "click", view_id: view.id, action }) })));
    else body.appendChild(el("div", "empty", "The bot has not published a Home for this person."));
    box.appendChild(body);
    return box;
  }

  // -- live page ---------------------------------------------------------------------------
  function sidebar() {
    const nav = $("sidebar");
    nav.innerHTML = "";
    nav.appendChild(el("h3", null, "Channels"));
    for (const c of state.channels.filter((c) => c.members.includes(me))) {
      const a = el("a", where === c.id ? "active" : "", (c.shared ? "🔗 " : "🔒 ") + c.name);
      a.dataset.go = c.id;
      if (c.shared) a.appendChild(el("span", "badge", "Slack Connect"));
      nav.appendChild(a);
    }
    nav.appendChild(el("h3", null, "Direct messages"));
    const dm = el("a", where === "dm" ? "active" : "", "onboard-bot");
    dm.dataset.go = "dm";
    nav.appendChild(dm);
    nav.appendChild(el("h3", null, "Apps"));
    const home = el("a", where === "home" ? "active" : "", "onboard-bot · Home");
    home.dataset.go = "home";
    nav.appendChild(home);
    for (const a of nav.querySelectorAll("a")) {
      a.addEventListener("click", () => {
        where = a.dataset.go;
        focusTs = null;
        localStorage.setItem("sandbox.where", where);
        if (where === "home") act({ do: "home" });
        else draw();
      });
    }
  }

  function composer(channelId) {
    const form = el("form", "composer");
    const input = el("input");
    input.id = "composer";
    input.placeholder = "Message, or /onboard help · /onboard new · /onboard status";
    const send = el("button", "bk-button bk-primary", "Send");
    form.appendChild(input);
    form.appendChild(send);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      input.value = "";
      if (text) act({ do: "type", channel: channelId, text });
    });
    return form;
  }

  function drawMain() {
    const main = $("main");
    const keepText = $("composer") ? $("composer").value : "";
    const scroller = main.querySelector(".messages");
    const atBottom = !scroller || scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 30;
    main.innerHTML = "";
    if (where === "home") {
      main.appendChild(homeNode(me));
      return;
    }
    let channelId = where;
    let title, about, messages;
    if (where === "dm") {
      const dm = state.dms[me];
      channelId = dm ? dm.id : "D" + me.slice(1);
      title = "onboard-bot";
      about = "Your direct messages with the app";
      messages = dm ? dm.messages : [];
    } else {
      const c = state.channels.find((c) => c.id === where && c.members.includes(me)) || state.channels.find((c) => c.members.includes(me));
      channelId = c.id;
      where = c.id;
      title = (c.shared ? "🔗 #" : "🔒 #") + c.name;
      about = c.about;
      messages = c.messages;
    }
    const box = conversation(channelId, title, about, messages, me);
    main.appendChild(box);
    main.appendChild(composer(channelId));
    $("composer").value = keepText;
    const list = box.querySelector(".messages");
    const focus = focusTs && list.querySelector('.msg[data-ts="' + focusTs + '"]');
    if (focus) focus.scrollIntoView({ block: "start" });
    else if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function drawModal() {
    const overlay = $("modal");
    const stack = state.modals[me] || [];
    overlay.innerHTML = "";
    if (!stack.length) {
      overlay.hidden = true;
      return;
    }
    const { view, errors } = stack[stack.length - 1];
    overlay.hidden = false;
    const box = el("div", "modal-box");
    box.dataset.callbackId = view.callback_id || "";
    const head = el("div", "modal-head");
    head.appendChild(el("span", null, view.title ? view.title.text : ""));
    const cross = el("button", "bk-button", "✕");
    cross.addEventListener("click", () => act({ do: "close", view_id: view.id }));
    head.appendChild(cross);
    box.appendChild(head);
    if (stack.length > 1) box.appendChild(el("div", "modal-stack", stack.length + " views open; this is the top one"));
    const form = [];
    const body = el("div", "modal-body");
    body.appendChild(BK.renderBlocks(view.blocks, ctxFor({ form, errors, act: (action) => act({ do: "click", view_id: view.id, action }) })));
    box.appendChild(body);
    const foot = el("div", "modal-foot");
    const close = el("button", "bk-button", view.close ? view.close.text : "Cancel");
    close.addEventListener("click", () => act({ do: "close", view_id: view.id }));
    foot.appendChild(close);
    const sample = (state.samples || {})[view.callback_id];
    if (sample) {
      const fill = el("button", "bk-button", "Fill in the sample answers");
      fill.id = "modal-sample";
      fill.addEventListener("click", () => fillIn(body, sample));
      foot.appendChild(fill);
    }
    if (view.submit) {
      const submit = el("button", "bk-button bk-primary", view.submit.text);
      submit.id = "modal-submit";
      submit.addEventListener("click", () => act({ do: "submit", view_id: view.id, values: BK.formValues(form) }));
      foot.appendChild(submit);
    }
    box.appendChild(foot);
    overlay.appendChild(box);
  }

  // Put the sample answers into the form's controls (the person still presses the submit button).
  function fillIn(body, sample) {
    for (const [block, answer] of Object.entries(sample)) {
      const box = body.querySelector('.bk-input-block[data-block-id="' + block + '"]');
      if (!box) continue;
      const control = box.querySelector("input, select, textarea");
      if (answer.type === "checkboxes") {
        const wanted = new Set((answer.selected_options || []).map((o) => o.value));
        for (const input of box.querySelectorAll("input[type=checkbox]")) input.checked = wanted.has(input.value);
      } else if (control) {
        const value = answer.value ?? answer.selected_date ?? answer.selected_user ?? answer.selected_conversation ?? (answer.selected_option ? answer.selected_option.value : "");
        control.value = value || "";
      }
    }
  }

  let drawnModal = "";
  function draw() {
    const select = $("person");
    if (!select.options.length) {
      for (const side of ["vendor", "customer"]) {
        const group = document.createElement("optgroup");
        group.label = side === "vendor" ? "Vendor" : "Customer (another team)";
        for (const p of state.people.filter((p) => p.side === side)) {
          const option = el("option", null, p.real_name + " · " + p.role);
          option.value = p.id;
          group.appendChild(option);
        }
        select.appendChild(group);
      }
      select.addEventListener("change", () => {
        me = select.value;
        localStorage.setItem("sandbox.me", me);
        drawnModal = "";
        if (where === "home") act({ do: "home" });
        else draw();
      });
    }
    select.value = me;
    $("now").textContent = state.now_label;
    sidebar();
    drawMain();
    // A modal being filled in is redrawn only when the bot changed it (not on every other change).
    const stack = state.modals[me] || [];
    const key = JSON.stringify(stack.length ? stack[stack.length - 1] : null);
    if (key !== drawnModal) {
      drawnModal = key;
      drawModal();
    }
    document.body.dataset.version = String(state.version);
  }

  async function refresh() {
    const resp = await fetch("/api/state");
    state = await resp.json();
    draw();
  }

  async function poll() {
    for (;;) {
      try {
        const resp = await fetch("/api/state?after=" + (state ? state.version : -1));
        const next = await resp.json();
        if (!state || next.version !== state.version) {
          state = next;
          draw();
        }
      } catch (err) {
        $("status").textContent = "the sandbox stopped";
        return;
      }
    }
  }

  // -- transcript ----------------------------------------------------------------------------
  function drawTranscript() {
    document.body.classList.add("transcript");
    $("you").hidden = true;
    for (const b of document.querySelectorAll("#clock button")) b.hidden = true;
    $("now").textContent = "Transcript ending " + state.now_label;
    $("sidebar").hidden = true;
    const main = $("main");
    for (const c of state.channels) {
      main.appendChild(conversation(c.id, (c.shared ? "🔗 #" : "🔒 #") + c.name, c.about, c.messages, null));
    }
    for (const [user, dm] of Object.entries(state.dms)) {
      main.appendChild(conversation(dm.id, "Direct messages: onboard-bot → " + person(user).real_name, person(user).role, dm.messages, null));
    }
    for (const user of Object.keys(state.homes)) main.appendChild(homeNode(user));
  }

  for (const b of document.querySelectorAll("#clock button")) {
    b.addEventListener("click", () => act({ do: "clock", step: b.dataset.step }));
  }
  if (transcript) {
    drawTranscript();
  } else {
    refresh().then(poll);
  }
})();
