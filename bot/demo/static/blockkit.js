// A small Block Kit renderer for the onboard-bot sandbox: blocks and elements to DOM, mrkdwn to HTML.
// Every block, element and text type it draws is listed in KNOWN (the test suite reads that list and
// fails when the bot emits anything else); anything unlisted is drawn as a visible "unknown" box.
(function () {
  "use strict";

  /* known-elements */ const KNOWN = {"blocks": ["section", "context", "divider", "header", "actions", "image", "input", "file"], "elements": ["button", "overflow", "static_select", "users_select", "conversations_select", "channels_select", "multi_static_select", "multi_users_select", "datepicker", "timepicker", "checkboxes", "radio_buttons", "plain_text_input", "image"], "texts": ["plain_text", "mrkdwn"]}; /* end known-elements */

  const EMOJI = {
    white_check_mark: "✅", warning: "⚠️", tada: "🎉", lock: "🔒", rotating_light: "🚨",
    hourglass_flowing_sand: "⏳", hourglass: "⌛", zipper_mouth_face: "🤐", white_large_square: "⬜",
    white_circle: "⚪", sunrise: "🌅", sunny: "☀️", red_circle: "🔴", raising_hand: "🙋", no_entry: "⛔",
    memo: "📝", large_orange_circle: "🟠", large_blue_circle: "🔵", large_green_circle: "🟢",
    large_yellow_circle: "🟡", heartpulse: "💗", construction: "🚧", chart_with_downwards_trend: "📉",
    chart_with_upwards_trend: "📈", calendar: "📅", pushpin: "📌", bell: "🔔", eyes: "👀", wave: "👋",
    rocket: "🚀", x: "❌", heavy_check_mark: "✔️", zzz: "💤", link: "🔗", clipboard: "📋",
    bar_chart: "📊", star: "⭐", fire: "🔥", handshake: "🤝", black_circle: "⚫", arrow_right: "➡️",
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function escapeHtml(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function decodeEntities(s) {
    return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emojify(html) {
    return html.replace(/:([a-z0-9_+-]+):/g, (m, name) => (EMOJI[name] ? EMOJI[name] : m));
  }

  // Formatting on already-escaped text: `code`, *bold*, _italic_, ~strike~.
  function formatInline(html) {
    const codes = [];
    html = html.replace(/`([^`\n]+)`/g, (m, c) => { codes.push(c); return "\u0000" + (codes.length - 1) + "\u0000"; });
    html = html.replace(/(^|[\s(>"'])\*([^*\n]+)\*(?=$|[\s).,;:!?<"'])/g, "$1<b>$2</b>");
    html = html.replace(/(^|[\s(>"'])_([^_\n]+)_(?=$|[\s).,;:!?<"'])/g, "$1<i>$2</i>");
    html = html.replace(/(^|[\s(>"'])~([^~\n]+)~(?=$|[\s).,;:!?<"'])/g, "$1<s>$2</s>");
    html = emojify(html);
    return html.replace(/\u0000(\d+)\u0000/g, (m, i) => "<code>" + codes[Number(i)] + "</code>");
  }

  // mrkdwn to HTML. Every real "<" in Slack text opens a control sequence (mention, channel, link):
  // a literal one arrives as &lt;, so text outside <...> is decoded, then escaped for the page.
  function mrkdwn(text, ctx) {
    const parts = String(text || "").split(/(<[^<>]+>)/);
    let html = "";
    for (const part of parts) {
      if (part.startsWith("<") && part.endsWith(">")) {
        html += control(part.slice(1, -1), ctx);
      } else {
        html += formatInline(escapeHtml(decodeEntities(part)));
      }
    }
    const lines = html.split("\n").map((line) => (line.startsWith("&gt; ") ? '<span class="bk-quote">' + line.slice(5) + "</span>" : line));
    return lines.join("<br>");
  }

  function control(inner, ctx) {
    const [target, label] = inner.split("|", 2);
    const people = (ctx && ctx.people) || {};
    const channels = (ctx && ctx.channels) || {};
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const name = people[id] ? people[id].real_name : label || id;
      return '<span class="bk-mention">@' + escapeHtml(name) + "</span>";
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return '<span class="bk-mention">#' + escapeHtml(channels[id] || label || id) + "</span>";
    }
    if (target.startsWith("!")) {
      if (target.startsWith("!date")) return escapeHtml(decodeEntities(label || target));
      return '<span class="bk-mention">@' + escapeHtml(target.slice(1)) + "</span>";
    }
    const text = label ? decodeEntities(label) : decodeEntities(target);
    return '<a href="' + escapeHtml(decodeEntities(target)) + '" target="_blank" rel="noopener noreferrer">' + escapeHtml(text) + "</a>";
  }

  function text(obj, ctx) {
    const span = el("span", "bk-text");
    if (!obj) return span;
    if (obj.type === "mrkdwn") {
      span.innerHTML = mrkdwn(obj.text, ctx);
    } else if (obj.type === "plain_text") {
      span.innerHTML = obj.emoji === false ? escapeHtml(obj.text) : emojify(escapeHtml(obj.text));
    } else {
      return unknown("text", obj.type);
    }
    return span;
  }

  function plainOf(obj) {
    return obj && obj.text ? obj.text : "";
  }

  function unknown(kind, type) {
    return el("div", "bk-unknown", "[" + kind + " " + type + " is not shown here]");
  }

  function blockId(block) {
    return block.block_id || "auto";
  }

  // -- elements -------------------------------------------------------------------------------
  function optionsOf(element) {
    if (element.options) return element.options;
    return (element.option_groups || []).flatMap((g) => g.options || []);
  }

  function selectBox(choices, initial, placeholder) {
    const select = el("select", "bk-select");
    const first = el("option", null, placeholder || "Select…");
    first.value = "";
    select.appendChild(first);
    for (const [value, label] of choices) {
      const option = el("option", null, label);
      option.value = value;
      if (value === initial) option.selected = true;
      select.appendChild(option);
    }
    return select;
  }

  // Each element renderer returns {node, value()} where value() is the element's state in a form.
  const ELEMENTS = {
    button(e, ctx, block) {
      const node = el("button", "bk-button" + (e.style ? " bk-" + e.style : ""));
      node.appendChild(text(e.text, ctx));
      node.dataset.actionId = e.action_id || "";
      if (e.url) node.title = e.url;
      node.disabled = !ctx.act;
      node.addEventListener("click", () => {
        if (e.confirm && !window.confirm(plainOf(e.confirm.text) || "Are you sure?")) return;
        if (e.url && ctx.openUrl) ctx.openUrl(e.url); // a link button: Slack opens it and still sends the click
        const action = { type: "button", action_id: e.action_id, block_id: blockId(block), text: e.text };
        if (e.value !== undefined) action.value = e.value;
        ctx.act(action);
      });
      return { node };
    },
    overflow(e, ctx, block) {
      const select = selectBox(e.options.map((o) => [o.value, plainOf(o.text)]), null, "⋯");
      select.classList.add("bk-overflow");
      select.dataset.actionId = e.action_id || "";
      select.disabled = !ctx.act;
      select.addEventListener("change", () => {
        const option = e.options.find((o) => o.value === select.value);
        if (option) ctx.act({ type: "overflow", action_id: e.action_id, block_id: blockId(block), selected_option: option });
        select.value = "";
      });
      return { node: select };
    },
    static_select(e, ctx, block, inForm) {
      const options = optionsOf(e);
      const select = selectBox(options.map((o) => [o.value, plainOf(o.text)]), e.initial_option ? e.initial_option.value : null, plainOf(e.placeholder));
      select.dataset.actionId = e.action_id || "";
      const value = () => {
        const option = options.find((o) => o.value === select.value);
        return { type: "static_select", selected_option: option || null };
      };
      if (!inForm) {
        select.disabled = !ctx.act;
        select.addEventListener("change", () => ctx.act({ action_id: e.action_id, block_id: blockId(block), ...value() }));
      }
      return { node: select, value };
    },
    users_select(e, ctx, block, inForm) {
      const people = Object.values(ctx.people || {});
      const select = selectBox(people.map((p) => [p.id, p.real_name + " (" + p.role + ")"]), e.initial_user || null, plainOf(e.placeholder));
      select.dataset.actionId = e.action_id || "";
      const value = () => ({ type: "users_select", selected_user: select.value || null });
      if (!inForm) {
        select.disabled = !ctx.act;
        select.addEventListener("change", () => ctx.act({ action_id: e.action_id, block_id: blockId(block), ...value() }));
      }
      return { node: select, value };
    },
    conversations_select(e, ctx, block, inForm) {
      const channels = Object.entries(ctx.channels || {});
      const select = selectBox(channels.map(([id, name]) => [id, "#" + name]), e.initial_conversation || null, plainOf(e.placeholder));
      select.dataset.actionId = e.action_id || "";
      const value = () => ({ type: "conversations_select", selected_conversation: select.value || null });
      if (!inForm) {
        select.disabled = !ctx.act;
        select.addEventListener("change", () => ctx.act({ action_id: e.action_id, block_id: blockId(block), ...value() }));
      }
      return { node: select, value };
    },
    channels_select(e, ctx, block, inForm) {
      const r = ELEMENTS.conversations_select({ ...e, initial_conversation: e.initial_channel }, ctx, block, inForm);
      return { node: r.node, value: () => ({ type: "channels_select", selected_channel: r.node.value || null }) };
    },
    multi_static_select(e, ctx) {
      const options = optionsOf(e);
      const select = el("select", "bk-select");
      select.multiple = true;
      const initial = new Set((e.initial_options || []).map((o) => o.value));
      for (const o of options) {
        const option = el("option", null, plainOf(o.text));
        option.value = o.value;
        option.selected = initial.has(o.value);
        select.appendChild(option);
      }
      select.dataset.actionId = e.action_id || "";
      const value = () => ({ type: "multi_static_select", selected_options: options.filter((o) => [...select.selectedOptions].some((s) => s.value === o.value)) });
      select.disabled = !ctx.form;
      return { node: select, value };
    },
    multi_users_select(e, ctx) {
      const select = el("select", "bk-select");
      select.multiple = true;
      const initial = new Set(e.initial_users || []);
      for (const p of Object.values(ctx.people || {})) {
        const option = el("option", null, p.real_name);
        option.value = p.id;
        option.selected = initial.has(p.id);
        select.appendChild(option);
      }
      select.dataset.actionId = e.action_id || "";
      return { node: select, value: () => ({ type: "multi_users_select", selected_users: [...select.selectedOptions].map((o) => o.value) }) };
    },
    datepicker(e, ctx, block, inForm) {
      const input = el("input", "bk-date");
      input.type = "date";
      if (e.initial_date) input.value = e.initial_date;
      input.dataset.actionId = e.action_id || "";
      const value = () => ({ type: "datepicker", selected_date: input.value || null });
      if (!inForm) {
        input.disabled = !ctx.act;
        input.addEventListener("change", () => {
          if (input.value) ctx.act({ action_id: e.action_id, block_id: blockId(block), initial_date: e.initial_date, ...value() });
        });
      }
      return { node: input, value };
    },
    timepicker(e, ctx, block, inForm) {
      const input = el("input", "bk-time");
      input.type = "time";
      if (e.initial_time) input.value = e.initial_time;
      input.dataset.actionId = e.action_id || "";
      const value = () => ({ type: "timepicker", selected_time: input.value || null });
      if (!inForm) {
        input.disabled = !ctx.act;
        input.addEventListener("change", () => {
          if (input.value) ctx.act({ action_id: e.action_id, block_id: blockId(block), initial_time: e.initial_time, ...value() });
        });
      }
      return { node: input, value };
    },
    checkboxes(e, ctx) {
      const box = el("div", "bk-checks");
      const initial = new Set((e.initial_options || []).map((o) => o.value));
      const inputs = [];
      for (const o of e.options || []) {
        const label = el("label", "bk-check");
        const input = el("input");
        input.type = "checkbox";
        input.value = o.value;
        input.checked = initial.has(o.value);
        input.disabled = !ctx.form;
        inputs.push([input, o]);
        label.appendChild(input);
        label.appendChild(text(o.text, ctx));
        if (o.description) label.appendChild(el("span", "bk-hint", plainOf(o.description)));
        box.appendChild(label);
      }
      box.dataset.actionId = e.action_id || "";
      return { node: box, value: () => ({ type: "checkboxes", selected_options: inputs.filter(([i]) => i.checked).map(([, o]) => o) }) };
    },
    radio_buttons(e, ctx) {
      const box = el("div", "bk-checks");
      const name = "r" + Math.random().toString(36).slice(2);
      const inputs = [];
      for (const o of e.options || []) {
        const label = el("label", "bk-check");
        const input = el("input");
        input.type = "radio";
        input.name = name;
        input.value = o.value;
        input.checked = !!(e.initial_option && e.initial_option.value === o.value);
        input.disabled = !ctx.form;
        inputs.push([input, o]);
        label.appendChild(input);
        label.appendChild(text(o.text, ctx));
        box.appendChild(label);
      }
      box.dataset.actionId = e.action_id || "";
      return { node: box, value: () => { const hit = inputs.find(([i]) => i.checked); return { type: "radio_buttons", selected_option: hit ? hit[1] : null }; } };
    },
    plain_text_input(e, ctx) {
      const input = e.multiline ? el("textarea", "bk-input") : el("input", "bk-input");
      if (!e.multiline) input.type = "text";
      if (e.initial_value) input.value = e.initial_value;
      if (e.placeholder) input.placeholder = plainOf(e.placeholder);
      if (e.max_length) input.maxLength = e.max_length;
      input.dataset.actionId = e.action_id || "";
      input.disabled = !ctx.form;
      return { node: input, value: () => ({ type: "plain_text_input", value: input.value }) };
    },
    image(e) {
      const img = el("img", "bk-image-element");
      img.src = e.image_url;
      img.alt = e.alt_text || "";
      return { node: img };
    },
  };

  function element(e, ctx, block, inForm) {
    const render = ELEMENTS[e.type];
    if (!render) return { node: unknown("element", e.type) };
    return render(e, ctx, block, inForm);
  }

  // -- blocks -----------------------------------------------------------------------------------
  const BLOCKS = {
    section(b, ctx) {
      const node = el("div", "bk-section");
      const body = el("div", "bk-section-body");
      if (b.text) body.appendChild(text(b.text, ctx));
      if (b.fields) {
        const fields = el("div", "bk-fields");
        for (const f of b.fields) {
          const cell = el("div", "bk-field");
          cell.appendChild(text(f, ctx));
          fields.appendChild(cell);
        }
        body.appendChild(fields);
      }
      node.appendChild(body);
      if (b.accessory) {
        const side = el("div", "bk-accessory");
        side.appendChild(element(b.accessory, ctx, b, false).node);
        node.appendChild(side);
      }
      return node;
    },
    context(b, ctx) {
      const node = el("div", "bk-context");
      for (const e of b.elements || []) {
        if (e.type === "image") node.appendChild(ELEMENTS.image(e).node);
        else node.appendChild(text(e, ctx));
      }
      return node;
    },
    divider() {
      return el("hr", "bk-divider");
    },
    header(b, ctx) {
      const node = el("div", "bk-header");
      node.appendChild(text(b.text, ctx));
      return node;
    },
    actions(b, ctx) {
      const node = el("div", "bk-actions");
      for (const e of b.elements || []) node.appendChild(element(e, ctx, b, false).node);
      return node;
    },
    image(b, ctx) {
      const node = el("figure", "bk-image");
      if (b.title) node.appendChild(text(b.title, ctx));
      const img = el("img");
      img.src = b.image_url || (b.slack_file && b.slack_file.url) || "";
      img.alt = b.alt_text || "";
      node.appendChild(img);
      return node;
    },
    file(b) {
      return el("div", "bk-file", "📎 file " + (b.external_id || ""));
    },
    input(b, ctx) {
      const node = el("div", "bk-input-block");
      node.dataset.blockId = blockId(b);
      const label = el("label", "bk-label");
      label.appendChild(text(b.label, ctx));
      if (b.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
      node.appendChild(label);
      const rendered = element(b.element, ctx, b, true);
      node.appendChild(rendered.node);
      if (ctx.form && rendered.value) ctx.form.push([blockId(b), b.element.action_id || blockId(b), rendered.value]);
      if (b.hint) node.appendChild(el("div", "bk-hint", plainOf(b.hint)));
      const error = ctx.errors && ctx.errors[blockId(b)];
      if (error) {
        node.classList.add("bk-has-error");
        node.appendChild(el("div", "bk-error", error));
      }
      return node;
    },
  };

  function renderBlocks(blocks, ctx) {
    const box = el("div", "bk-blocks");
    for (const b of blocks || []) {
      const render = BLOCKS[b.type];
      const node = render ? render(b, ctx) : unknown("block", b.type);
      if (b.block_id) node.dataset.blockId = b.block_id;
      box.appendChild(node);
    }
    return box;
  }

  // The view's form state as Slack sends it: {block_id: {action_id: element state}}.
  function formValues(form) {
    const values = {};
    for (const [block, action, value] of form) values[block] = { [action]: value() };
    return values;
  }

  // Names listed in KNOWN without a renderer (should always be empty).
  function selfCheck() {
    const missing = [];
    for (const name of KNOWN.blocks) if (!BLOCKS[name]) missing.push("block " + name);
    for (const name of KNOWN.elements) if (!ELEMENTS[name]) missing.push("element " + name);
    for (const name of KNOWN.texts) if (!["plain_text", "mrkdwn"].includes(name)) missing.push("text " + name);
    return missing;
  }

  window.BlockKit = { KNOWN, renderBlocks, mrkdwn, text, formValues, selfCheck };
})();
