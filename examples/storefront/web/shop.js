// The shop's page: choose a store and a pickup time with live
// availability, reserve, pay, and get the pickup code with its barcode.
// Every call goes to the storefront's JSON API; every refusal is shown as
// a shop shows it.
"use strict";

const $ = (id) => document.getElementById(id);
const refreshMs = 2000;
const state = {
  products: [], sku: "", item: null,
  stores: new Map(), // store → units available, for every store shown since the product was chosen
  store: "", window: "", key: "", hold: null, holdTimer: null,
};

async function api(method, path, body, key) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (key) opts.headers["Idempotency-Key"] = key;
  try {
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON */ }
    return { status: resp.status, body: data || {} };
  } catch (_) {
    return { status: 0, body: { error: "unavailable" } };
  }
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function when(t, zone, withDate) {
  const o = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) Object.assign(o, { weekday: "short", month: "short", day: "numeric" });
  try { if (zone) o.timeZone = zone; return new Intl.DateTimeFormat("en-GB", o).format(new Date(t)); }
  catch (_) { return new Date(t).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }
}

function notice(msg) {
  const n = $("notice");
  n.hidden = !msg;
  n.textContent = msg || "";
}

// refusal turns an error answer into what a shop would say.
function refusal(r) {
  const limit = state.item && state.item.limit;
  switch (r.body.error) {
    case "sold_out": return `Sold out at ${state.store}: there are not that many left. Choose another store or fewer.`;
    case "window_full": return "That pickup time is full. Choose another time.";
    case "limit_exceeded": return limit ? `Limit ${limit} per member across all stores: this order would take you past it.` :
      "This order would take you past the limit per member.";
    case "blocked": return "This member account cannot order now. Please contact customer service.";
    case "not_open": return "Sales of this product have not opened yet.";
    case "closed": return "Sales of this product have closed.";
    case "window_required": return "Choose a pickup time.";
    case "unknown_window": return "That pickup time is no longer offered. Choose another.";
    case "unknown_item": return "This product is not sold at that store.";
    case "rate_limited": return "Too many tries. Wait a moment and try again.";
    case "expired": return "Your reservation ran out before payment. Reserve again.";
    case "bad_request": case "bad_json": return "Check your order: " + (r.body.message || "something is missing.");
  }
  return "The shop is busy right now. Try again in a moment.";
}

async function init() {
  const r = await api("GET", "/products");
  state.products = (r.body.products || []).slice();
  const asked = new URLSearchParams(location.search).get("sku");
  if (asked && !state.products.some((p) => p.sku === asked)) state.products.unshift({ sku: asked, name: "" });
  const sel = $("sku");
  for (const p of state.products) sel.appendChild(el("option", { value: p.sku }, p.name ? `${p.name} (${p.sku})` : p.sku));
  if (asked) sel.value = asked;
  if (state.products.length === 0) {
    notice("Nothing is on sale right now.");
    return;
  }
  chooseProduct();
  setInterval(refresh, refreshMs);
}

function chooseProduct() {
  state.sku = $("sku").value;
  const p = state.products.find((x) => x.sku === state.sku) || { name: "" };
  $("product-name").textContent = p.name || state.sku;
  state.stores.clear();
  state.store = "";
  state.window = "";
  state.item = null;
  notice("");
  refresh();
}

async function refresh() {
  if (state.hold) return;
  await refreshStores();
  await refreshItem();
}

async function refreshStores() {
  const r = await api("GET", "/stores?sku=" + encodeURIComponent(state.sku));
  if (r.status !== 200) return;
  for (const s of state.stores.keys()) state.stores.set(s, 0); // a store no longer listed has none left
  for (const s of r.body.stores) state.stores.set(s.store, s.available);
  const list = $("store-list");
  list.replaceChildren();
  const names = [...state.stores.keys()].sort();
  const any = names.some((s) => state.stores.get(s) > 0);
  $("product-soldout").hidden = any;
  $("product-note").textContent = any ? `Available at ${names.filter((s) => state.stores.get(s) > 0).length} store(s).` : "";
  for (const s of names) {
    const left = state.stores.get(s);
    list.appendChild(choice("store", s, s, left > 0 ? `${left} left` : "Sold out", left <= 0, state.store === s,
      left <= 0 ? "soldout" : left <= 5 ? "few" : "", () => { state.store = s; state.window = ""; notice(""); refreshItem(); }));
  }
  if (state.store && state.stores.get(state.store) <= 0) {
    notice(any ? `Sold out at ${state.store}. Choose another store.` : "Sold out at every store.");
  }
  updateReserve();
}

async function refreshItem() {
  const box = $("window-list");
  if (!state.store) {
    box.replaceChildren();
    $("windows").disabled = true;
    return;
  }
  const r = await api("GET", `/items/${encodeURIComponent(state.sku)}/${encodeURIComponent(state.store)}`);
  if (r.status !== 200) return;
  const it = r.body;
  state.item = it;
  $("windows").disabled = false;
  box.replaceChildren();
  const windows = it.windows || [];
  if (windows.length === 0) box.appendChild(el("p", { class: "muted small" }, "Collect any time within a week of payment."));
  for (const w of windows) {
    const label = `${when(w.start, it.zone, true)}–${when(w.end, it.zone, false)}`;
    box.appendChild(choice("window", w.start, label, w.available > 0 ? `${w.available} left` : "Full", w.available <= 0,
      state.window === w.start, w.available <= 0 ? "full" : w.available <= 3 ? "few" : "", () => { state.window = w.start; notice(""); updateReserve(); }));
  }
  if (state.window && !windows.some((w) => w.start === state.window && w.available > 0)) state.window = "";
  const qty = $("qty");
  qty.max = String(Math.max(1, it.limit || it.available || 1));
  $("limit-note").textContent = it.limit ? `Limit ${it.limit} per member, across all stores.` : "";
  updateReserve();
}

// choice makes one radio button of a list, with what is left beside it.
function choice(name, value, label, left, out, checked, cls, picked) {
  const id = `${name}-${String(value).replace(/[^A-Za-z0-9]/g, "")}`;
  const lab = el("label", { class: "choice" + (out ? " out" : ""), for: id, "data-value": value });
  const input = el("input", { type: "radio", name, id, value });
  input.checked = checked;
  input.disabled = out;
  input.addEventListener("change", picked);
  lab.appendChild(input);
  lab.appendChild(el("span", {}, label));
  lab.appendChild(el("span", { class: "left badge " + cls }, left));
  return lab;
}

function updateReserve() {
  const needsWindow = state.item && state.item.windows && state.item.windows.length > 0;
  $("reserve").disabled = !state.store || state.stores.get(state.store) <= 0 || (needsWindow && !state.window);
}

async function reserve(e) {
  e.preventDefault();
  const customer = $("customer").value.trim();
  const qty = Number($("qty").value);
  if (!customer) { notice("Enter your member number."); $("customer").focus(); return; }
  if (!(qty >= 1)) { notice("Choose how many."); $("qty").focus(); return; }
  // One key per order attempt: a second click, or a retry after a lost
  // answer, gets the same hold instead of a second one.
  if (!state.key) state.key = crypto.randomUUID();
  const body = { sku: state.sku, store: state.store, customer, qty };
  if (state.window) body.window = state.window;
  $("reserve").disabled = true;
  const r = await api("POST", "/orders", body, state.key);
  if (r.status !== 503) state.key = "";
  if (r.status !== 201) {
    notice(refusal(r));
    $("notice").dataset.error = r.body.error || "";
    await refresh();
    return;
  }
  notice("");
  showHold(r.body);
}

function showHold(o) {
  state.hold = o;
  $("order").hidden = true;
  $("hold").hidden = false;
  $("hold-what").textContent = `${o.qty} × ${$("product-name").textContent} at ${o.store}` +
    (o.window ? `, pickup ${when(o.window, state.item && state.item.zone, true)}` : "");
  const until = new Date(o.held_until).getTime();
  const tick = () => {
    const s = Math.max(0, Math.round((until - Date.now()) / 1000));
    $("hold-left").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  tick();
  state.holdTimer = setInterval(tick, 1000);
  $("pay").focus();
}

function endHold() {
  clearInterval(state.holdTimer);
  state.hold = null;
  $("hold").hidden = true;
}

async function pay() {
  const o = state.hold;
  $("pay").disabled = true;
  const r = await api("POST", `/orders/${o.id}/confirm`, undefined, "pay-" + o.id);
  $("pay").disabled = false;
  if (r.status !== 200) {
    if (r.status === 503) { $("hold-left").textContent += " (payment not confirmed yet: try again)"; return; }
    endHold();
    $("order").hidden = false;
    notice(refusal(r));
    refresh();
    return;
  }
  endHold();
  showTicket(r.body);
}

function showTicket(o) {
  const zone = state.item && state.item.zone;
  $("ticket").hidden = false;
  $("pickup-code").textContent = o.pickup_code.replace(/(\d{4})(?=\d)/g, "$1 ");
  $("pickup-code").dataset.code = o.pickup_code;
  $("barcode").replaceChildren(code128.svg(o.barcode, 60));
  $("ticket-store").textContent = o.store;
  $("ticket-window").textContent = o.window ? when(o.window, zone, true) : "any time before the deadline";
  $("ticket-deadline").textContent = o.pickup_deadline ? when(o.pickup_deadline, zone, true) : "";
  $("ticket-id").textContent = o.id;
  $("ticket").focus();
}

async function cancelHold() {
  const o = state.hold;
  await api("DELETE", `/orders/${o.id}`, undefined, "cancel-" + o.id);
  endHold();
  $("order").hidden = false;
  refresh();
}

function again() {
  $("ticket").hidden = true;
  $("order").hidden = false;
  refresh();
}

$("sku").addEventListener("change", chooseProduct);
$("order").addEventListener("submit", reserve);
$("pay").addEventListener("click", pay);
$("cancel").addEventListener("click", cancelHold);
$("again").addEventListener("click", again);
init();
