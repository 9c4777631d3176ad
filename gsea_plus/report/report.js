/* gsea-plus report tables: sort by a column, filter rows; plain JavaScript, no network.
 * State can be given in the address after '#', e.g.
 *   report.html#sort=Adjusted%20P-value:desc&filter=mhc&sig=1&rep=1
 * and is kept there as the user sorts and filters, so a view can be bookmarked. */
(function () {
  "use strict";
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? NaN : ""; }
    if (numeric) {
      var v = cell.getAttribute("data-v");
      return v === null || v === "" ? NaN : parseFloat(v);
    }
    return (cell.getAttribute("data-v") || cell.textContent || "").toLowerCase();
  }
  function readHash() {
    var state = {};
    var hash = window.location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (part) {
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

  function setup(wrap) {
    var table = wrap.querySelector("table.results");
    if (!table) { return; }
    var tbody = table.tBodies[0];
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var rows = Array.prototype.slice.call(tbody.rows);
    var search = wrap.querySelector("input[type=search]");
    var sigBox = wrap.querySelector("input.only-sig");
    var repBox = wrap.querySelector("input.only-rep");
    var libSel = wrap.querySelector("select.library");
    var evSel = wrap.querySelector("select.evidence");
    var counter = wrap.querySelector(".count");
    var sortState = { col: "", dir: "" };

    function applyFilter() {
      var text = search ? search.value.trim().toLowerCase() : "";
      var shown = 0;
      rows.forEach(function (row) {
        var ok = true;
        if (text && row.textContent.toLowerCase().indexOf(text) < 0) { ok = false; }
        if (ok && sigBox && sigBox.checked && row.getAttribute("data-sig") !== "1") { ok = false; }
        if (ok && repBox && repBox.checked && row.getAttribute("data-rep") !== "1") { ok = false; }
        if (ok && libSel && libSel.value && row.getAttribute("data-library") !== libSel.value) { ok = false; }
        if (ok && evSel && evSel.value && row.getAttribute("data-evidence") !== evSel.value) { ok = false; }
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (counter) { counter.textContent = shown + " of " + rows.length + " rows"; }
      table.setAttribute("data-shown", String(shown));
    }

    function sortBy(name, dir) {
      var index = -1;
      headers.forEach(function (th, i) {
        if (th.getAttribute("data-col") === name) { index = i; }
        th.removeAttribute("aria-sort");
      });
      if (index < 0) { return false; }
      var th = headers[index];
      var numeric = th.getAttribute("data-type") === "num";
      var sign = dir === "desc" ? -1 : 1;
      var keyed = rows.map(function (row, i) { return [cellValue(row, index, numeric), i, row]; });
      keyed.sort(function (a, b) {
        var x = a[0], y = b[0];
        if (numeric) {
          var xn = isNaN(x), yn = isNaN(y);
          if (xn || yn) { return xn === yn ? a[1] - b[1] : (xn ? 1 : -1); }  /* empty cells last */
          if (x !== y) { return sign * (x < y ? -1 : 1); }
          return a[1] - b[1];
        }
        if (x !== y) { return sign * (x < y ? -1 : 1); }
        return a[1] - b[1];
      });
      var frag = document.createDocumentFragment();
      keyed.forEach(function (k) { frag.appendChild(k[2]); });
      tbody.appendChild(frag);
      rows = keyed.map(function (k) { return k[2]; });
      th.setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
      table.setAttribute("data-sorted", name + ":" + dir);
      sortState = { col: name, dir: dir };
      return true;
    }

    function save() {
      shared.sort = sortState.col ? sortState.col + ":" + sortState.dir : "";
      shared.filter = search ? search.value : "";
      shared.sig = sigBox && sigBox.checked ? "1" : "";
      shared.rep = repBox && repBox.checked ? "1" : "";
      writeHash(shared);
    }

    headers.forEach(function (th) {
      th.setAttribute("tabindex", "0");
      function activate() {
        var name = th.getAttribute("data-col");
        var dir = sortState.col === name && sortState.dir === "asc" ? "desc" : "asc";
        if (sortState.col !== name && th.getAttribute("data-type") === "num" &&
            th.getAttribute("data-desc") === "1") { dir = "desc"; }
        sortBy(name, dir);
        save();
      }
      th.addEventListener("click", activate);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); }
      });
    });
    [search, sigBox, repBox, libSel, evSel].forEach(function (el) {
      if (!el) { return; }
      el.addEventListener(el.tagName === "INPUT" && el.type === "search" ? "input" : "change",
        function () { applyFilter(); save(); });
    });

    if (shared.filter && search) { search.value = shared.filter; }
    if (shared.sig && sigBox) { sigBox.checked = shared.sig === "1"; }
    if (shared.rep && repBox) { repBox.checked = shared.rep === "1"; }
    if (shared.sort) {
      var at = shared.sort.lastIndexOf(":");
      var name = at < 0 ? shared.sort : shared.sort.slice(0, at);
      var dir = at < 0 ? "asc" : shared.sort.slice(at + 1);
      sortBy(name, dir === "desc" ? "desc" : "asc");
    }
    applyFilter();
    table.setAttribute("data-ready", "1");
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
    Array.prototype.forEach.call(document.querySelectorAll(".results-block"), setup);
    Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
      b.addEventListener("click", function () { copyMethods(b); });
    });
    document.documentElement.setAttribute("data-script", "ran");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
