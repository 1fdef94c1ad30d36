// Sorts and filters the report's tables: a click (or Enter) on a column
// header sorts by it, again to reverse; a box above a long table hides the
// rows that do not contain its text. No data is evaluated: cells are read
// as text.
(function () {
  "use strict";
  function key(cell) {
    var s = (cell.getAttribute("data-sort") || cell.textContent || "").trim();
    // "1,234", "95.5%", "4.1 h", "12 min", "(61)": a number first when
    // there is one, with its unit scaled to seconds.
    var m = /^[-+]?[\d,]*\.?\d+/.exec(s);
    if (!m) {
      return { n: null, s: s.toLowerCase() };
    }
    var n = parseFloat(m[0].replace(/,/g, ""));
    var unit = s.slice(m[0].length).trim();
    var scale = { ms: 0.001, s: 1, min: 60, h: 3600, d: 86400 }[unit];
    return { n: scale ? n * scale : n, s: s.toLowerCase() };
  }
  function compare(a, b) {
    if (a.n !== null && b.n !== null) {
      return a.n - b.n;
    }
    if (a.n !== null || b.n !== null) {
      return a.n !== null ? -1 : 1;
    }
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    if (!body) {
      return;
    }
    var desc = th.getAttribute("aria-sort") !== "descending";
    [].forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    var rows = [].slice.call(body.rows).map(function (r, i) {
      return { r: r, k: key(r.cells[col] || r), i: i };
    });
    rows.sort(function (a, b) {
      var c = compare(a.k, b.k);
      return (desc ? -c : c) || a.i - b.i;
    });
    rows.forEach(function (x) { body.appendChild(x.r); });
  }
  function filterBox(table, wrap) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "filter";
    box.placeholder = "Filter " + table.tBodies[0].rows.length + " rows";
    box.setAttribute("aria-label", "Filter the rows of this table");
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      [].forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
    wrap.parentNode.insertBefore(box, wrap);
  }
  [].forEach.call(document.querySelectorAll("main table"), function (table) {
    if (!table.tHead || !table.tBodies[0]) {
      return;
    }
    [].forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.classList.add("sortable");
      th.title = "Sort by this column";
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          sortBy(table, col, th);
        }
      });
    });
    var wrap = table.closest(".table-wrap");
    if (wrap && table.tBodies[0].rows.length > 8) {
      filterBox(table, wrap);
    }
  });
})();
