// Shared by the console and the counter: the token (kept for this browser
// tab only, never in a cookie, so that no other site's page can borrow it),
// calls to the API, and small SVG helpers for the charts.
"use strict";

const inv = (() => {
  const tokenKey = "inv.token";

  function token() { return sessionStorage.getItem(tokenKey) || ""; }
  function setToken(t) { if (t) sessionStorage.setItem(tokenKey, t); else sessionStorage.removeItem(tokenKey); }

  // api calls the JSON API and returns {status, body}; body is null when
  // the answer is not JSON. A network failure gives status 0.
  async function api(path, body) {
    const opts = { method: body === undefined ? "GET" : "POST", headers: {} };
    const t = token();
    if (t) opts.headers["Authorization"] = "Bearer " + t;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    try {
      const resp = await fetch(path, opts);
      let data = null;
      try { data = await resp.json(); } catch (_) { /* not JSON */ }
      return { status: resp.status, body: data };
    } catch (_) {
      return { status: 0, body: null };
    }
  }

  // session asks who the token is; a server without tokens answers
  // without one.
  async function session() { return api("/api/session"); }

  // signIn wires a sign-in form: its password field's value becomes the
  // token, then done() runs.
  function signIn(form, done) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const field = form.querySelector("input[type=password]");
      setToken(field.value.trim());
      field.value = "";
      done();
    });
  }

  // The charts' colours, the same as common.css's (SVG attributes take no
  // CSS variables).
  const colors = { held: "#e0a400", sold: "#0b5cad", picked: "#1e7b34", free: "#d6dbe1", bad: "#b42318",
    line: "#d6dbe1" };

  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const el = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // hbar draws one horizontal bar of stacked parts [{value, color, label}]
  // over total, as an SVG of the given width in CSS pixels.
  function hbar(parts, total, width, label) {
    const h = 14;
    const s = svg("svg", { width: width, height: h, viewBox: `0 0 ${width} ${h}`, role: "img", "aria-label": label });
    s.appendChild(svg("rect", { x: 0, y: 0, width: width, height: h, rx: 3, fill: colors.free }));
    let x = 0;
    for (const p of parts) {
      const w = total > 0 ? Math.max(0, Math.min(width - x, (p.value / total) * width)) : 0;
      if (w > 0) s.appendChild(svg("rect", { x: x, y: 0, width: w, height: h, fill: p.color }));
      x += w;
    }
    return s;
  }

  // lines draws series (arrays of equal length) as lines in a chart of the
  // given size, with the largest value on the y axis.
  function lines(series, width, height, label) {
    const pad = { l: 34, r: 6, t: 8, b: 16 };
    const n = series.length ? series[0].values.length : 0;
    let top = 1;
    for (const s of series) for (const v of s.values) top = Math.max(top, v);
    const s = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": label,
      preserveAspectRatio: "none" });
    const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
    s.appendChild(svg("line", { x1: pad.l, y1: pad.t + h, x2: pad.l + w, y2: pad.t + h, stroke: colors.line }));
    s.appendChild(svg("line", { x1: pad.l, y1: pad.t, x2: pad.l + w, y2: pad.t, stroke: colors.line, "stroke-dasharray": "3 3" }));
    s.appendChild(svg("text", { x: pad.l - 4, y: pad.t + 4, "text-anchor": "end" }, String(top)));
    s.appendChild(svg("text", { x: pad.l - 4, y: pad.t + h, "text-anchor": "end" }, "0"));
    s.appendChild(svg("text", { x: pad.l, y: height - 2 }, `−${n}s`));
    s.appendChild(svg("text", { x: pad.l + w, y: height - 2, "text-anchor": "end" }, "now"));
    for (const ser of series) {
      const pts = ser.values.map((v, i) => {
        const x = pad.l + (n > 1 ? (i / (n - 1)) * w : 0);
        const y = pad.t + h - (v / top) * h;
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      s.appendChild(svg("polyline", { points: pts.join(" "), fill: "none", stroke: ser.color, "stroke-width": 2,
        "vector-effect": "non-scaling-stroke" }));
    }
    return s;
  }

  // time prints an RFC 3339 time (or Unix nanoseconds) as hours and
  // minutes in a store's time zone.
  function time(t, zone, lang) {
    const d = typeof t === "number" ? new Date(t / 1e6) : new Date(t);
    const o = { hour: "2-digit", minute: "2-digit", hour12: false };
    try { if (zone) o.timeZone = zone; return new Intl.DateTimeFormat(lang || "en", o).format(d); }
    catch (_) { return d.toISOString().slice(11, 16) + " UTC"; }
  }
  function dateTime(t, zone, lang) {
    const d = new Date(t);
    const o = { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false };
    try { if (zone) o.timeZone = zone; return new Intl.DateTimeFormat(lang || "en", o).format(d); }
    catch (_) { return d.toISOString().slice(0, 16).replace("T", " ") + " UTC"; }
  }

  function pct(x) { return (100 * x).toFixed(x > 0 && x < 0.1 ? 1 : 0) + "%"; }

  // el makes an element with text and attributes.
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  return { colors, token, setToken, api, session, signIn, svg, hbar, lines, time, dateTime, pct, el };
})();
