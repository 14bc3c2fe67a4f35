// Optline contacts: select a whole page of contacts, and count a segment
// while its rule is edited. The pages work without this script.
(function () {
  "use strict";
  var all = document.getElementById("select-page");
  if (all) {
    var boxes = function () {
      return Array.prototype.slice.call(document.querySelectorAll('table.contacts input[type="checkbox"][name="id"]'));
    };
    var sync = function () {
      var b = boxes(), on = b.filter(function (x) { return x.checked; }).length;
      all.checked = on > 0 && on === b.length;
      all.indeterminate = on > 0 && on < b.length;
    };
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes().forEach(function (x) { x.checked = all.checked; });
    });
    boxes().forEach(function (x) { x.addEventListener("change", sync); });
    sync();
  }

  // The segment list of a large book: fetch each count after the page, one
  // at a time (each is a pass over the book).
  var cells = Array.prototype.slice.call(document.querySelectorAll("td[data-count-url]"));
  var next = function () {
    var cell = cells.shift();
    if (!cell) return;
    fetch(cell.getAttribute("data-count-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) cell.textContent = j.count.toLocaleString(document.documentElement.lang || undefined); })
      .catch(function () {})
      .then(next);
  };
  next();

  var form = document.getElementById("segment-form");
  var out = document.getElementById("segment-count");
  if (form && out) {
    var timer = null, seq = 0;
    var count = function () {
      var q = new URLSearchParams();
      ["all_tags", "any_tags", "none_tags"].forEach(function (n) {
        var el = form.elements.namedItem(n);
        if (el) q.set(n, el.value);
      });
      var mine = ++seq;
      fetch("/segments/count?" + q.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j && mine === seq) out.textContent = j.text; })
        .catch(function () {});
    };
    form.addEventListener("input", function (ev) {
      if (!ev.target.hasAttribute("data-count-input")) return;
      clearTimeout(timer);
      timer = setTimeout(count, 300);
    });
  }
})();
