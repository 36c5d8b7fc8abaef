// The store counter: sign in with the store's token, scan or type a pickup
// code, see the order (or why it may not be handed over) in words a clerk
// uses, hand it over with one button; today's windows beside it. Traditional
// Chinese and English, switched at the top.
"use strict";

const words = {
  title: { zh: "門市取貨", en: "Store counter" },
  signOut: { zh: "登出", en: "Sign out" },
  signInTitle: { zh: "門市登入", en: "Sign in to the counter" },
  token: { zh: "門市權杖", en: "Store token" },
  signIn: { zh: "登入", en: "Sign in" },
  signInBad: { zh: "權杖無效，請再試一次。", en: "That token is not valid. Try again." },
  signInRole: { zh: "這個權杖不能使用門市櫃台，請使用門市權杖。", en: "This token cannot work a counter: use the store's token." },
  scanTitle: { zh: "掃描取貨碼", en: "Scan a pickup code" },
  store: { zh: "門市", en: "Store" },
  codeLabel: { zh: "取貨碼或條碼", en: "Pickup code or barcode" },
  codeHelp: { zh: "12 位數字，或掃描條碼（掃描器會自動按 Enter）", en: "12 digits, or scan the barcode (the scanner presses Enter)" },
  check: { zh: "查詢", en: "Check" },
  todayTitle: { zh: "今日取貨時段", en: "Today's pickup windows" },
  todayCaption: { zh: "今日各取貨時段的訂單", en: "Orders in today's pickup windows" },
  window: { zh: "時段", en: "Window" },
  capacity: { zh: "已用容量", en: "Capacity used" },
  due: { zh: "待取", en: "Due" },
  collected: { zh: "已取", en: "Collected" },
  overdue: { zh: "逾時未取", en: "Overdue" },
  noWindow: { zh: "未指定時段", en: "No window" },
  noWindows: { zh: "今天沒有取貨時段。", en: "No pickup windows today." },
  ready: { zh: "可以交付", en: "Ready to hand over" },
  item: { zh: "商品", en: "Item" },
  units: { zh: "數量", en: "Units" },
  customer: { zh: "顧客", en: "Customer" },
  pickupWindow: { zh: "取貨時段", en: "Pickup window" },
  collectBy: { zh: "取貨期限", en: "Collect by" },
  order: { zh: "訂單編號", en: "Order" },
  handOver: { zh: "交付商品", en: "Hand over" },
  handedOver: { zh: "已交付", en: "Handed over" },
  give: { zh: "請將 {qty} 件 {sku} 交給顧客。", en: "Give the customer {qty} × {sku}." },
  refusedTitle: { zh: "不能交付", en: "Do not hand over" },
  notListedTitle: { zh: "不在本店今日清單中", en: "Not in this store's list" },
  notListed: {
    zh: "這個取貨碼不在本店的清單中。請核對號碼；若顧客確定訂單在本店，按「交付商品」由系統核對取貨碼。",
    en: "This code is not in this store's list. Check the digits; if the customer is sure the order is for this store, press Hand over and the system checks the code.",
  },
  reason: {
    wrong_store: { zh: "此訂單不是在本店取貨。請顧客到訂單上的門市取貨。", en: "This order is for another store. Ask the customer to collect it at the store on their order." },
    locked: { zh: "此訂單因取貨碼錯誤次數過多已鎖定，請聯絡客服中心解鎖。", en: "This order is locked after too many wrong codes. Call the help desk to unlock it." },
    expired: { zh: "此訂單已逾期（未在期限內付款或取貨），不能交付。", en: "This order has expired: it was not paid or not collected in time. It cannot be handed over." },
    bad_code: { zh: "取貨碼不正確。請核對號碼後重新掃描。", en: "The code is not right. Check the digits and scan again." },
    too_early: { zh: "還沒到取貨時間，{from} 起才能取貨。", en: "Too early: this order can be collected from {from}." },
    collected: { zh: "此訂單已於 {at} 取貨，請勿重複交付。", en: "Already collected at {at}. Do not hand it over again." },
    not_found: { zh: "查無此條碼的訂單。", en: "No order has this barcode." },
    wrong_state: { zh: "此訂單目前不能交付（未付款、已取消或已退貨）。", en: "This order cannot be handed over: it is not paid, cancelled or returned." },
    rate_limited: { zh: "嘗試次數過多，請稍候幾秒再掃描。", en: "Too many tries. Wait a few seconds and scan again." },
    unavailable: { zh: "系統暫時沒有回應，請再掃描一次。", en: "The system did not answer. Scan again." },
    bad_request: { zh: "這不是取貨碼：請輸入 12 位數字，或掃描收據上的條碼。", en: "That is not a pickup code: type the 12 digits or scan the barcode on the receipt." },
    unauthorized: { zh: "這個登入不能服務此門市，請以本店權杖重新登入。", en: "This sign-in does not serve this store. Sign in again with the store's token." },
  },
};

const state = { lang: localStorage.getItem("inv.lang") || "zh", session: null, store: "", last: null, scan: "" };
const $ = (id) => document.getElementById(id);

function t(key, vars) {
  let w = words[key];
  if (w && w[state.lang] === undefined && w.en === undefined) w = null;
  let s = w ? (w[state.lang] || w.en) : key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
}
function reasonText(reason, vars) {
  const w = words.reason[reason] || words.reason.wrong_state;
  let s = w[state.lang] || w.en;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
}
function locale() { return state.lang === "zh" ? "zh-Hant-TW" : "en-GB"; }

function setLang(lang) {
  state.lang = lang;
  localStorage.setItem("inv.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-Hant" : "en";
  $("lang-zh").setAttribute("aria-pressed", String(lang === "zh"));
  $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  document.title = t("title");
  if (state.last) render(state.last);
  loadToday();
}

async function start() {
  const r = await inv.session();
  if (r.status !== 200) {
    showSignIn(r.status === 401 && inv.token() ? "signInBad" : "");
    return;
  }
  if (r.body.role !== "store" && r.body.role !== "operator") {
    showSignIn("signInRole");
    return;
  }
  state.session = r.body;
  $("signin-card").hidden = true;
  $("counter").hidden = false;
  $("sign-out").hidden = r.body.open;
  setupStores(r.body);
  loadToday();
  $("code").focus();
}

function showSignIn(errKey) {
  $("counter").hidden = true;
  $("signin-card").hidden = false;
  $("sign-out").hidden = true;
  const e = $("signin-error");
  e.hidden = !errKey;
  e.textContent = errKey ? t(errKey) : "";
  $("token").focus();
}

// setupStores offers the token's stores; an operator (or a server without
// tokens) types the store.
function setupStores(s) {
  const sel = $("store"), input = $("store-input");
  sel.replaceChildren();
  const saved = localStorage.getItem("inv.store") || "";
  if (s.role === "store") {
    for (const st of s.stores) sel.appendChild(inv.el("option", { value: st }, st));
    if (s.stores.includes(saved)) sel.value = saved;
    state.store = sel.value;
    $("store-select-field").hidden = s.stores.length < 2;
    $("store-input-field").hidden = true;
    input.required = false;
  } else {
    $("store-select-field").hidden = true;
    $("store-input-field").hidden = false;
    input.required = true;
    input.value = saved;
    state.store = saved;
  }
  $("store-name").textContent = state.store;
}

function storeChanged(v) {
  state.store = v.trim();
  localStorage.setItem("inv.store", state.store);
  $("store-name").textContent = state.store;
  state.last = null;
  $("result").replaceChildren();
  loadToday();
}

async function check(e) {
  e.preventDefault();
  const code = $("code").value.trim();
  if (!code) return;
  state.scan = code;
  const r = await inv.api("/api/counter/check", { store: state.store, code: code });
  show(r);
}

async function handOver() {
  const btn = document.querySelector("button.handover");
  if (btn) btn.disabled = true;
  const key = "counter-" + state.store + "-" + state.scan + "-" + Date.now();
  const r = await inv.api("/api/counter/pickup", { store: state.store, code: state.scan, key: key });
  show(r);
  loadToday();
}

// show turns an API answer into what the clerk sees.
function show(r) {
  let ans;
  if (r.status === 200) ans = r.body;
  else if (r.status === 401 || r.status === 403) ans = { outcome: "refused", reason: "unauthorized" };
  else if (r.status === 400) ans = { outcome: "refused", reason: "bad_request" };
  else ans = { outcome: "refused", reason: "unavailable" };
  state.last = ans;
  render(ans);
  const code = $("code");
  if (ans.outcome === "ready" || ans.outcome === "not_listed") {
    document.querySelector("button.handover").focus();
  } else {
    if (ans.outcome === "picked_up") code.value = "";
    code.focus();
    code.select();
  }
}

function render(ans) {
  const box = $("result");
  box.replaceChildren();
  const panel = inv.el("div", { class: "panel", "data-outcome": ans.outcome });
  if (ans.reason) panel.dataset.reason = ans.reason;
  const o = ans.order;
  switch (ans.outcome) {
    case "ready":
      panel.classList.add("ready");
      panel.appendChild(inv.el("h3", {}, t("ready")));
      panel.appendChild(details(o, ans.zone));
      panel.appendChild(handButton());
      break;
    case "picked_up":
      panel.classList.add("done");
      panel.appendChild(inv.el("h3", {}, t("handedOver")));
      panel.appendChild(inv.el("p", { class: "give" }, t("give", { qty: o.qty, sku: o.sku || "" })));
      panel.appendChild(details(o, ans.zone));
      break;
    case "not_listed":
      panel.classList.add("unknown");
      panel.appendChild(inv.el("h3", {}, t("notListedTitle")));
      panel.appendChild(inv.el("p", {}, t("notListed")));
      panel.appendChild(handButton());
      break;
    default: {
      panel.classList.add("refused");
      panel.appendChild(inv.el("h3", {}, t("refusedTitle")));
      const vars = {};
      if (ans.from) vars.from = inv.dateTime(ans.from, ans.zone, locale());
      if (o && o.collected_at) vars.at = inv.dateTime(o.collected_at, ans.zone, locale());
      panel.appendChild(inv.el("p", { class: "reason", role: "alert" }, reasonText(ans.reason, vars)));
      if (o && ans.reason === "collected") panel.appendChild(details(o, ans.zone));
    }
  }
  box.appendChild(panel);
}

function handButton() {
  const b = inv.el("button", { type: "button", class: "handover" }, t("handOver"));
  b.addEventListener("click", handOver);
  return b;
}

function details(o, zone) {
  const dl = inv.el("dl");
  const add = (k, v, field) => {
    dl.appendChild(inv.el("dt", {}, t(k)));
    dl.appendChild(inv.el("dd", { "data-field": field }, v));
  };
  add("item", o.sku, "sku");
  add("units", String(o.qty), "qty");
  add("customer", o.customer, "customer");
  if (o.window_start) {
    let w = inv.dateTime(o.window_start, zone, locale());
    if (o.window_end) w += "–" + inv.time(o.window_end, zone, locale());
    add("pickupWindow", w, "window");
  }
  if (o.deadline) add("collectBy", inv.dateTime(o.deadline, zone, locale()), "deadline");
  add("order", o.id, "id");
  return dl;
}

async function loadToday() {
  if (!state.session || !state.store) return;
  const r = await inv.api("/api/counter/today?store=" + encodeURIComponent(state.store));
  if (r.status !== 200) return;
  const d = r.body;
  $("today-date").textContent = d.date;
  const tiles = $("today-totals");
  tiles.replaceChildren();
  for (const [k, v] of [["due", d.total.due], ["collected", d.total.collected], ["overdue", d.overdue]]) {
    const tile = inv.el("div", { class: "tile", "data-total": k });
    tile.appendChild(inv.el("div", { class: "v" }, String(v)));
    tile.appendChild(inv.el("div", { class: "k" }, t(k)));
    tiles.appendChild(tile);
  }
  const body = document.querySelector("#today tbody");
  body.replaceChildren();
  if (d.windows.length === 0) {
    const tr = inv.el("tr");
    tr.appendChild(inv.el("td", { colspan: 5 }, t("noWindows")));
    body.appendChild(tr);
  }
  for (const w of d.windows) {
    const tr = inv.el("tr", { "data-window": w.start || "none" });
    const label = w.start ? inv.time(w.start, d.zone, locale()) + "–" + inv.time(w.end, d.zone, locale()) : t("noWindow");
    tr.appendChild(inv.el("th", { scope: "row" }, label));
    const cap = inv.el("td");
    if (w.capacity > 0) {
      cap.appendChild(inv.hbar([{ value: w.used, color: inv.colors.sold }], w.capacity, 90, `${w.used} / ${w.capacity}`));
      cap.appendChild(document.createTextNode(` ${w.used}/${w.capacity}`));
    }
    tr.appendChild(cap);
    tr.appendChild(inv.el("td", { class: "num", "data-field": "due" }, String(w.due)));
    tr.appendChild(inv.el("td", { class: "num", "data-field": "collected" }, String(w.collected)));
    tr.appendChild(inv.el("td", { class: "num" + (w.overdue > 0 ? " overdue" : ""), "data-field": "overdue" }, String(w.overdue)));
    body.appendChild(tr);
  }
}

// A barcode scanner types into whatever has the focus: a key that would
// type a character anywhere else goes to the scan field.
document.addEventListener("keydown", (e) => {
  const a = document.activeElement;
  if (e.key.length !== 1 || e.ctrlKey || e.metaKey || e.altKey || $("counter").hidden) return;
  if (a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA")) return;
  const code = $("code");
  if (state.last && state.last.outcome !== "ready" && state.last.outcome !== "not_listed") code.value = "";
  code.focus();
});

$("lang-zh").addEventListener("click", () => setLang("zh"));
$("lang-en").addEventListener("click", () => setLang("en"));
$("sign-out").addEventListener("click", () => { inv.setToken(""); state.session = null; showSignIn(""); });
$("scan").addEventListener("submit", check);
$("store").addEventListener("change", (e) => storeChanged(e.target.value));
$("store-input").addEventListener("change", (e) => storeChanged(e.target.value));
inv.signIn($("signin"), start);
setInterval(loadToday, 5000);
setLang(state.lang);
start();
