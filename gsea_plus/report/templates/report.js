/* gsea-plus report tables: every row is embedded (JSON, gzip-compressed when large) and
 * sorted, filtered and paged here, so the browser always works on all of them.
 * Plain JavaScript, no network. The results table keeps its state in the address after
 * '#', e.g.  report.html#sort=Adjusted%20P-value:desc&filter=mhc&sig=1&rep=1&list=B:up
 * so a view can be bookmarked. */
(function () {
  "use strict";
  var PAGE_SIZES = [25, 100, 500, 2000];

  function readHash() {
    var state = {};
    window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      if (!part) { return; }
      var eq = part.indexOf("=");
      var key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      state[key] = eq < 0 ? "1" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    });
    return state;
  }
  function writeHash(state) {
    var parts = [];
    Object.keys(state).forEach(function (k) {
      if (state[k] !== "" && state[k] !== null && state[k] !== undefined) {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(state[k]));
      }
    });
    var hash = parts.length ? "#" + parts.join("&") : window.location.pathname + window.location.search;
    try { history.replaceState(null, "", hash); } catch (e) { /* file:// in some browsers */ }
  }
  var shared = readHash();

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* ----------------------------------------------------------------- the data */

  function decode(el) {
    var text = el.textContent;
    if (el.getAttribute("data-encoding") !== "gzip-base64") {
      return Promise.resolve(JSON.parse(text));
    }
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot unpack the embedded table " +
        "(no DecompressionStream): open the report in a current Chrome, Edge, Firefox or Safari"));
    }
    var bin = atob(text.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  /* A column: cell(i) gives the value of row i; codes/dict when it is dictionary-encoded. */
  function column(spec, raw) {
    var col = { name: spec.name, kind: spec.kind, fmt: spec.fmt || "", desc: !!spec.desc,
                title: spec.title || "", key: spec.key || "" };
    if (raw && raw.dict) {
      col.dict = raw.dict;
      col.codes = raw.codes;
      col.cell = function (i) { return col.dict[col.codes[i]]; };
    } else {
      col.values = raw || [];
      col.cell = function (i) { return col.values[i]; };
    }
    return col;
  }

  /* ------------------------------------------------------------ cell display */

  function formatNumber(v, fmt, row, data) {
    if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) { return ""; }
    if (fmt === "p") {
      if (v === 0) {
        var lg = data.log10 ? data.log10.cell(row) : null;
        if (lg !== null && lg !== undefined && isFinite(lg)) {
          var e = Math.floor(lg);
          return Math.pow(10, lg - e).toFixed(2) + "e" + e;
        }
        return "0";
      }
      return v < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
    }
    if (!isFinite(v)) { return v > 0 ? "inf" : "-inf"; }
    if (fmt === "f1") { return v.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }); }
    if (fmt === "f2") { return v.toFixed(2); }
    if (fmt === "f3") { return v.toFixed(3); }
    if (fmt === "int") { return Math.round(v).toLocaleString("en-US"); }
    return String(Number(v.toPrecision(6)));
  }

  function genesHtml(v, predicted) {
    if (!v) { return ""; }
    var text = v.split(";").filter(Boolean).map(escapeHtml).join(", ");
    return predicted && text ? '<span class="pred">' + text + "</span>" : text;
  }

  function cellHtml(col, i, data) {
    var v = col.cell(i);
    switch (col.kind) {
      case "num":
        return '<td class="num">' + formatNumber(v, col.fmt, i, data) + "</td>";
      case "overlap":
        return '<td class="num">' + escapeHtml(v === null ? "" : v) + "</td>";
      case "genes":
        return '<td class="genes">' + genesHtml(v, false) + "</td>";
      case "pred":
        return '<td class="genes">' + genesHtml(v, true) + "</td>";
      case "term":
        return '<td class="term">' + escapeHtml(v === null ? "" : v) + "</td>";
      case "evidence":
        var cls = { "model": "model", "list+model": "list-model" }[v] || "";
        return '<td><span class="badge ' + cls + '">' + escapeHtml(v || "") + "</span></td>";
      case "bool":
        return "<td>" + (v ? "yes" : "") + "</td>";
      case "list":
        return '<td class="list"><a href="#" data-list="' + escapeHtml(v) + '">' + escapeHtml(v) + "</a></td>";
      default:
        return "<td>" + escapeHtml(v === null || v === undefined ? "" : v) + "</td>";
    }
  }

  /* ----------------------------------------------------------------- sorting */

  function sortKeys(col, data) {
    var n = data.rows, keys = new Float64Array(n), i;
    var source = col.key ? data.byName[col.key] : col;
    if (source.kind === "num" || source.kind === "overlap" || source.kind === "bool" || col.kind === "rank") {
      for (i = 0; i < n; i++) {
        var v = col.kind === "rank" ? i : source.cell(i);
        keys[i] = v === null || v === undefined || v === "" ? NaN : Number(v);
      }
      return keys;
    }
    if (source.dict) {  /* rank the dictionary once: codes become sort keys */
      var order = source.dict.map(function (s, j) { return [String(s).toLowerCase(), j]; });
      order.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
      var rank = new Float64Array(source.dict.length);
      order.forEach(function (o, r) { rank[o[1]] = r; });
      for (i = 0; i < n; i++) { keys[i] = rank[source.codes[i]]; }
      return keys;
    }
    var texts = [];
    for (i = 0; i < n; i++) { texts.push([String(source.cell(i) || "").toLowerCase(), i]); }
    texts.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
    var r = 0;
    texts.forEach(function (t, j) { if (j > 0 && t[0] !== texts[j - 1][0]) { r = j; } keys[t[1]] = r; });
    return keys;
  }

  /* ------------------------------------------------------------------ a table */

  function Table(wrap, payload) {
    var self = this;
    this.wrap = wrap;
    this.table = wrap.querySelector("table");
    this.useHash = wrap.getAttribute("data-hash") === "1";
    this.data = { rows: payload.rows, byName: {}, columns: [] };
    payload.columns.forEach(function (spec) {
      var col = column(spec, payload.values[spec.name]);
      self.data.byName[spec.name] = col;
      if (!spec.hidden) { self.data.columns.push(col); }
    });
    this.data.log10 = this.data.byName["Log10 P-value"] || null;
    this.flags = payload.flags || {};
    this.order = null;  /* row numbers in sort order */
    this.shown = null;  /* row numbers shown (filtered, in order) */
    this.page = 0;
    this.pageSize = Number(wrap.getAttribute("data-page")) || 100;
    this.sort = { col: "", dir: "" };
    this.search = null;  /* lower-case text of each row, built on the first text filter */
    this.controls = {
      text: wrap.querySelector("input[type=search]"),
      sig: wrap.querySelector("input.only-sig"),
      rep: wrap.querySelector("input.only-rep"),
      lib: wrap.querySelector("select.library"),
      ev: wrap.querySelector("select.evidence"),
      list: wrap.querySelector("select.list"),
      size: wrap.querySelector("select.page-size"),
    };
    this.counter = wrap.querySelector(".count");
    this.pager = wrap.querySelector(".pager");
    this.head();
  }

  Table.prototype.head = function () {
    var self = this, cells = [];
    this.data.columns.forEach(function (col) {
      var attrs = ' data-col="' + escapeHtml(col.name) + '" data-type="' +
        (col.kind === "num" || col.kind === "overlap" || col.kind === "rank" ? "num" : "text") + '"';
      if (col.desc) { attrs += ' data-desc="1"'; }
      if (col.title) { attrs += ' title="' + escapeHtml(col.title) + '"'; }
      cells.push("<th" + attrs + ' tabindex="0">' + escapeHtml(col.name) + "</th>");
    });
    this.table.tHead.innerHTML = "<tr>" + cells.join("") + "</tr>";
    Array.prototype.forEach.call(this.table.tHead.rows[0].cells, function (th) {
      function activate() {
        var name = th.getAttribute("data-col");
        var dir = self.sort.col === name && self.sort.dir === "asc" ? "desc" : "asc";
        if (self.sort.col !== name && th.getAttribute("data-desc") === "1") { dir = "desc"; }
        self.sortBy(name, dir);
        self.filter();
        self.save();
      }
      th.addEventListener("click", activate);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); }
      });
    });
  };

  Table.prototype.sortBy = function (name, dir) {
    var col = this.data.byName[name];
    if (!col) { return false; }
    var keys = sortKeys(col, this.data), n = this.data.rows, sign = dir === "desc" ? -1 : 1;
    var order = new Uint32Array(n);
    for (var i = 0; i < n; i++) { order[i] = i; }
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b], xn = isNaN(x), yn = isNaN(y);
      if (xn || yn) { return xn === yn ? a - b : (xn ? 1 : -1); }  /* empty cells last */
      return x !== y ? sign * (x < y ? -1 : 1) : a - b;
    });
    this.order = order;
    this.sort = { col: name, dir: dir };
    Array.prototype.forEach.call(this.table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
      if (th.getAttribute("data-col") === name) {
        th.setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
      }
    });
    this.table.setAttribute("data-sorted", name + ":" + dir);
    return true;
  };

  Table.prototype.rowText = function () {
    if (this.search) { return this.search; }
    var cols = this.data.columns.filter(function (c) { return c.kind !== "num" && c.kind !== "rank"; });
    var n = this.data.rows, out = new Array(n);
    for (var i = 0; i < n; i++) {
      var parts = [];
      for (var j = 0; j < cols.length; j++) { var v = cols[j].cell(i); if (v) { parts.push(v); } }
      out[i] = parts.join("\u0001").toLowerCase();
    }
    this.search = out;
    return out;
  };

  Table.prototype.filter = function () {
    var c = this.controls, f = this.flags, data = this.data;
    var text = c.text ? c.text.value.trim().toLowerCase() : "";
    var texts = text ? this.rowText() : null;
    var sig = c.sig && c.sig.checked && f.sig, rep = c.rep && c.rep.checked && f.rep;
    var lib = c.lib && c.lib.value ? data.byName.Library : null;
    var ev = c.ev && c.ev.value ? data.byName.Evidence : null;
    var list = c.list && c.list.value ? data.byName.List : null;
    var n = data.rows, shown = [];
    for (var k = 0; k < n; k++) {
      var i = this.order ? this.order[k] : k;
      if (sig && !f.sig[i]) { continue; }
      if (rep && !f.rep[i]) { continue; }
      if (lib && lib.cell(i) !== c.lib.value) { continue; }
      if (ev && ev.cell(i) !== c.ev.value) { continue; }
      if (list && list.cell(i) !== c.list.value) { continue; }
      if (texts && texts[i].indexOf(text) < 0) { continue; }
      shown.push(i);
    }
    this.shown = shown;
    this.page = 0;
    this.table.setAttribute("data-shown", String(shown.length));
    this.render();
  };

  Table.prototype.render = function () {
    var data = this.data, f = this.flags, rows = [];
    var pages = Math.max(1, Math.ceil(this.shown.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    var lo = this.page * this.pageSize, hi = Math.min(this.shown.length, lo + this.pageSize);
    for (var k = lo; k < hi; k++) {
      var i = this.shown[k], classes = [], attrs = "";
      if (f.sig) {
        attrs += ' data-sig="' + (f.sig[i] ? 1 : 0) + '"';
        if (!f.sig[i]) { classes.push("notsig"); }
      }
      if (f.rep) { attrs += ' data-rep="' + (f.rep[i] ? 1 : 0) + '"'; if (f.rep[i]) { classes.push("rep"); } }
      if (data.byName.Evidence) {
        var ev = data.byName.Evidence.cell(i) || "";
        attrs += ' data-evidence="' + escapeHtml(ev) + '"';
        if (ev === "model") { classes.push("ev-model"); }
      }
      if (classes.length) { attrs += ' class="' + classes.join(" ") + '"'; }
      var cells = [];
      for (var j = 0; j < data.columns.length; j++) {
        var col = data.columns[j];
        cells.push(col.kind === "rank" ? '<td class="num" data-v="' + (i + 1) + '">' + (i + 1) + "</td>"
          : cellHtml(col, i, data));
      }
      rows.push("<tr" + attrs + ">" + cells.join("") + "</tr>");
    }
    this.table.tBodies[0].innerHTML = rows.join("");
    var total = data.rows.toLocaleString("en-US");
    if (this.counter) {
      this.counter.textContent = (this.shown.length === data.rows ? total + " rows"
        : this.shown.length.toLocaleString("en-US") + " of " + total + " rows");
    }
    if (this.pager) {
      this.pager.querySelector(".range").textContent = this.shown.length
        ? "rows " + (lo + 1).toLocaleString("en-US") + "\u2013" + hi.toLocaleString("en-US") +
          " of " + this.shown.length.toLocaleString("en-US") : "no row matches";
      this.pager.querySelector(".prev").disabled = this.page === 0;
      this.pager.querySelector(".next").disabled = this.page >= pages - 1;
      this.pager.hidden = this.shown.length <= PAGE_SIZES[0];
    }
  };

  Table.prototype.save = function () {
    if (!this.useHash) { return; }
    var c = this.controls;
    shared.sort = this.sort.col ? this.sort.col + ":" + this.sort.dir : "";
    shared.filter = c.text ? c.text.value : "";
    shared.sig = c.sig && c.sig.checked ? "1" : "";
    shared.rep = c.rep && c.rep.checked ? "1" : "";
    shared.list = c.list ? c.list.value : "";
    writeHash(shared);
  };

  Table.prototype.restore = function () {
    var c = this.controls;
    if (this.useHash) {
      if (shared.filter && c.text) { c.text.value = shared.filter; }
      if (shared.sig && c.sig) { c.sig.checked = shared.sig === "1"; }
      if (shared.rep && c.rep) { c.rep.checked = shared.rep === "1"; }
      if (shared.list && c.list) { c.list.value = shared.list; }
      if (shared.sort) {
        var at = shared.sort.lastIndexOf(":");
        var name = at < 0 ? shared.sort : shared.sort.slice(0, at);
        this.sortBy(name, at >= 0 && shared.sort.slice(at + 1) === "desc" ? "desc" : "asc");
      }
    }
  };

  Table.prototype.wire = function () {
    var self = this, c = this.controls;
    [c.text, c.sig, c.rep, c.lib, c.ev, c.list].forEach(function (el) {
      if (!el) { return; }
      el.addEventListener(el.type === "search" ? "input" : "change", function () { self.filter(); self.save(); });
    });
    if (c.size) {
      c.size.value = String(this.pageSize);
      c.size.addEventListener("change", function () { self.pageSize = Number(c.size.value); self.render(); });
    }
    if (this.pager) {
      this.pager.querySelector(".prev").addEventListener("click", function () { self.page -= 1; self.render(); });
      this.pager.querySelector(".next").addEventListener("click", function () { self.page += 1; self.render(); });
    }
    this.table.tBodies[0].addEventListener("click", function (e) {
      var link = e.target.closest ? e.target.closest("a[data-list]") : null;
      if (link) { e.preventDefault(); showList(link.getAttribute("data-list")); }
    });
  };

  var tables = [];

  function showList(name) {
    tables.forEach(function (t) {
      if (t.useHash && t.controls.list) {
        t.controls.list.value = name;
        t.filter();
        t.save();
        t.wrap.scrollIntoView();
      }
    });
  }

  function setup(wrap) {
    var el = wrap.querySelector("script.table-data");
    var status = wrap.querySelector(".status");
    return decode(el).then(function (payload) {
      var t = new Table(wrap, payload);
      tables.push(t);
      t.wire();
      t.restore();
      t.filter();
      if (status) { status.hidden = true; }
      t.table.setAttribute("data-rows", String(payload.rows));
      t.table.setAttribute("data-ready", "1");
    }).catch(function (err) {
      if (status) { status.textContent = "The table could not be shown: " + err.message; status.hidden = false; }
      wrap.querySelector("table").setAttribute("data-error", String(err.message));
    });
  }

  function copyMethods(button) {
    var target = document.getElementById(button.getAttribute("data-target"));
    if (!target) { return; }
    var text = target.innerText;
    function done() { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy text"; }, 1500); }
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(target);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else { fallback(); }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
      b.addEventListener("click", function () { copyMethods(b); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("a[data-list]"), function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); showList(a.getAttribute("data-list")); });
    });
    var blocks = document.querySelectorAll(".results-block");
    var work = Array.prototype.map.call(blocks, setup);
    document.documentElement.setAttribute("data-script", "ran");
    Promise.all(work).then(function () {
      document.documentElement.setAttribute("data-tables", "ready");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
