// The operator console: asks /api/console/overview a few times a second and
// redraws. The server keeps the figures from the change feed; the page only
// draws them (inline SVG, no chart library).
"use strict";

const $ = (id) => document.getElementById(id);
const C = inv.colors;
const refreshMs = 400;
let timer = null;
let lastBusy = null; // {total, at}: busy refusals per second between two answers

async function start() {
  const r = await inv.session();
  if (r.status !== 200 || r.body.role !== "operator") {
    showSignIn(r.status === 200 ? "This is a " + r.body.role + " token: the console needs an operator token." :
      (r.status === 401 && inv.token() ? "That token is not valid." : ""));
    return;
  }
  $("signin-card").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = r.body.open;
  refresh();
}

function showSignIn(msg) {
  if (timer) clearTimeout(timer);
  $("console").hidden = true;
  $("signin-card").hidden = false;
  $("sign-out").hidden = true;
  $("signin-error").hidden = !msg;
  $("signin-error").textContent = msg;
  $("token").focus();
}

async function refresh() {
  const r = await inv.api("/api/console/overview");
  if (r.status === 401 || r.status === 403) { showSignIn("Sign in again."); return; }
  if (r.status === 200) draw(r.body);
  else $("updated").textContent = "no answer from the server; retrying";
  timer = setTimeout(refresh, refreshMs);
}

function draw(d) {
  $("node").textContent = `${d.node.name} · node ${d.node.node_id} · up ${Math.floor(d.node.uptime_seconds)} s`;
  const ready = $("ready");
  ready.textContent = d.node.draining ? "shutting down" : d.node.ready ? "ready" : "not ready";
  ready.className = "pill " + (d.node.ready && !d.node.draining ? "ok" : "bad");
  $("updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
  const b = d.book;
  const partial = [];
  if (b.shards_live < b.shards) partial.push(`the feed of ${b.shards - b.shards_live} shard(s) is still being read`);
  if (b.items_left_out || b.stores_left_out || b.orders_left_out) partial.push("the book is at its bound: some rows are left out");
  $("partial").hidden = partial.length === 0;
  $("partial").textContent = partial.length ? "Figures are partial: " + partial.join("; ") + "." : "";
  drawRate(d.series);
  drawKPIs(d.kpis);
  drawOverload(d.node);
  drawSKUs(d.skus);
  drawRefusals(d.refusals);
  drawStores(d.stores);
  drawShards(d.node.shards, d.feed);
}

function drawRate(s) {
  $("rate-chart").replaceChildren(inv.lines([
    { values: s.reserved, color: C.held }, { values: s.confirmed, color: C.sold },
    { values: s.picked_up, color: C.picked }, { values: s.bad_codes, color: C.bad },
  ], 720, 180, "units reserved, confirmed and collected per second over the last two minutes"));
}

function tiles(box, list) {
  box.replaceChildren();
  for (const [key, label, value, cls] of list) {
    const t = inv.el("div", { class: "tile" + (cls ? " " + cls : ""), "data-kpi": key });
    t.appendChild(inv.el("div", { class: "v" }, value));
    t.appendChild(inv.el("div", { class: "k" }, label));
    box.appendChild(t);
  }
}

function drawKPIs(k) {
  const done = k.picked_up + k.no_show;
  tiles($("kpis"), [
    ["awaiting", "awaiting pickup", String(k.awaiting_pickup)],
    ["picked_up", "collected", String(k.picked_up)],
    ["no_show", "not collected (no-show)", String(k.no_show)],
    ["on_time", "on-time pickup rate", done ? inv.pct(k.on_time_rate) : "–", done && k.on_time_rate < 0.98 ? "warn" : ""],
    ["holds", "holds awaiting payment", String(k.active_holds)],
    ["expired", "holds expired unpaid", String(k.expired)],
  ]);
}

function drawOverload(n) {
  const busy = n.shards.reduce((a, s) => a + s.busy, 0);
  const now = Date.now();
  let rate = 0;
  if (lastBusy && now > lastBusy.at) rate = ((busy - lastBusy.total) * 1000) / (now - lastBusy.at);
  lastBusy = { total: busy, at: now };
  const replyUse = n.reply_limit ? n.reply_bytes / n.reply_limit : 0;
  tiles($("overload"), [
    ["connections", "connections", String(n.connections)],
    ["pre_hello", "before HELLO", String(n.pre_hello)],
    ["in_flight", "requests in flight", String(n.in_flight)],
    ["reply_budget", "reply budget used", inv.pct(replyUse), replyUse > 0.5 ? "warn" : ""],
    ["paused", "connections paused", String(n.paused_connections), n.paused_connections > 0 ? "warn" : ""],
    ["busy", "busy refusals / s", rate.toFixed(0), rate > 0 ? "warn" : ""],
  ]);
}

function drawSKUs(skus) {
  const body = document.querySelector("#skus tbody");
  body.replaceChildren();
  if (skus.length === 0) {
    const tr = inv.el("tr");
    tr.appendChild(inv.el("td", { colspan: 9 }, "No items yet."));
    body.appendChild(tr);
  }
  for (const s of skus) {
    const tr = inv.el("tr", { "data-sku": s.sku });
    tr.appendChild(inv.el("th", { scope: "row" }, s.sku));
    tr.appendChild(inv.el("td", { class: "num" }, String(s.stores)));
    const bar = inv.el("td", { class: "bar" });
    bar.appendChild(inv.hbar([
      { value: s.picked_up, color: C.picked }, { value: s.confirmed, color: C.sold }, { value: s.held, color: C.held },
    ], s.stock, 200, `${s.sku}: ${s.picked_up} collected, ${s.confirmed} confirmed, ${s.held} held of ${s.stock}`));
    tr.appendChild(bar);
    for (const f of ["stock", "held", "confirmed", "picked_up", "available"]) {
      tr.appendChild(inv.el("td", { class: "num", "data-field": f }, String(s[f])));
    }
    tr.appendChild(inv.el("td", { class: "num", "data-field": "sell_through" }, inv.pct(s.sell_through)));
    body.appendChild(tr);
  }
}

function drawRefusals(rows) {
  const box = $("refusals");
  box.replaceChildren();
  if (rows.length === 0) { box.appendChild(inv.el("p", { class: "muted" }, "None yet.")); return; }
  const top = Math.max(...rows.map((r) => r.count));
  for (const r of rows) {
    const row = inv.el("div", { class: "refusal", "data-reason": r.reason });
    row.appendChild(inv.el("span", {}, r.reason.replaceAll("_", " ")));
    row.appendChild(inv.hbar([{ value: r.count, color: C.bad }], top, 220, `${r.reason}: ${r.count}`));
    row.appendChild(inv.el("span", { class: "n" }, String(r.count)));
    box.appendChild(row);
  }
}

function drawStores(stores) {
  const body = document.querySelector("#stores tbody");
  body.replaceChildren();
  if (stores.length === 0) {
    const tr = inv.el("tr");
    tr.appendChild(inv.el("td", { colspan: 2 }, "No store windows ahead."));
    body.appendChild(tr);
  }
  for (const st of stores) {
    const tr = inv.el("tr", { "data-store": st.store });
    const name = inv.el("th", { scope: "row" }, st.store);
    if (st.zone) name.appendChild(inv.el("div", { class: "muted" }, st.zone));
    tr.appendChild(name);
    const td = inv.el("td");
    const box = inv.el("div", { class: "windows" });
    for (const w of st.windows) {
      if (!w.start) continue;
      const full = w.capacity > 0 && w.used >= w.capacity;
      const item = inv.el("span", { class: "w" + (full ? " full" : ""), "data-window": String(w.start) });
      item.appendChild(inv.el("span", {}, inv.dateTime(new Date(w.start / 1e6).toISOString(), st.zone, "en-GB")));
      item.appendChild(inv.hbar([{ value: w.used, color: full ? C.bad : C.sold }], w.capacity, 70, `${w.used} of ${w.capacity}`));
      item.appendChild(inv.el("span", { "data-field": "used" }, `${w.used}/${w.capacity}`));
      box.appendChild(item);
    }
    td.appendChild(box);
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

function drawShards(shards, feed) {
  const body = document.querySelector("#shards tbody");
  body.replaceChildren();
  const byShard = new Map(feed.map((f) => [f.shard, f]));
  for (const s of shards) {
    const tr = inv.el("tr", { "data-shard": String(s.shard) });
    const f = byShard.get(s.shard);
    const cells = [
      [String(s.shard), "num"], [s.state, "state-" + s.state], [s.leader ? String(s.leader) : "none", "num"],
      [String(s.term), "num"], [String(s.last_log_index), "num"], [String(s.commit_index), "num"],
      [String(s.applied_index), "num"], [String(s.commit_index - s.applied_index), "num"],
      [String(s.snapshot_index), "num"], [String(s.busy), "num"],
      [f ? (f.live ? "live at " + f.position : "replaying") : "–", ""],
    ];
    for (const [v, cls] of cells) tr.appendChild(inv.el("td", cls ? { class: cls } : {}, v));
    body.appendChild(tr);
  }
}

$("sign-out").addEventListener("click", () => { inv.setToken(""); showSignIn(""); });
inv.signIn($("signin"), start);
start();
