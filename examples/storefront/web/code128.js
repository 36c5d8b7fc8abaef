// Code 128 (set B) as SVG: what a counter's scanner reads from a phone's
// screen or a printout. The pickup barcode (engine.PickupBarcode: "INV",
// the order id in hex, the 12-digit code) is all printable ASCII, so set B
// holds it whole.
"use strict";

const code128 = (() => {
  // The bar and space widths (in modules) of each symbol value 0..106:
  // 103 start A, 104 start B, 105 start C, 106 stop.
  const patterns = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
    "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
    "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
    "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
    "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
    "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
    "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
    "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
  ];
  const startB = 104, stop = 106, quiet = 10;

  // symbols returns the values of text in set B: start, data, check, stop.
  function symbols(text) {
    const out = [startB];
    for (const ch of text) {
      const c = ch.charCodeAt(0);
      if (c < 32 || c > 127) throw new Error("Code 128 B cannot hold " + JSON.stringify(ch));
      out.push(c - 32);
    }
    let sum = startB;
    for (let i = 1; i < out.length; i++) sum += out[i] * i;
    out.push(sum % 103, stop);
    return out;
  }

  // svg draws text as a barcode of the given height, two pixels a module,
  // with quiet zones of ten modules on each side.
  function svg(text, height) {
    const ns = "http://www.w3.org/2000/svg";
    const s = document.createElementNS(ns, "svg");
    let x = quiet;
    for (const v of symbols(text)) {
      const p = patterns[v];
      for (let i = 0; i < p.length; i++) {
        const w = Number(p[i]);
        if (i % 2 === 0) {
          const r = document.createElementNS(ns, "rect");
          r.setAttribute("x", x);
          r.setAttribute("y", 0);
          r.setAttribute("width", w);
          r.setAttribute("height", height);
          s.appendChild(r);
        }
        x += w;
      }
    }
    const width = x + quiet;
    s.setAttribute("viewBox", `0 0 ${width} ${height}`);
    s.setAttribute("width", String(2 * width));
    s.setAttribute("preserveAspectRatio", "none");
    s.setAttribute("shape-rendering", "crispEdges");
    s.setAttribute("fill", "#000");
    s.setAttribute("role", "img");
    s.setAttribute("aria-label", "barcode " + text);
    s.dataset.barcode = text;
    return s;
  }

  return { symbols, svg };
})();
