// Optline: live progress of a contact import. Polls the page's progress
// endpoint every second and updates the bar and the figures; reloads the
// page once the import has ended, to show the result. Without JavaScript
// the page offers a reload link instead.
(function () {
  "use strict";
  var root = document.querySelector("[data-import-progress]");
  if (!root || root.getAttribute("data-finished") === "true") return;
  var url = root.getAttribute("data-progress-url");
  var bar = root.querySelector("progress");

  function set(name, text) {
    var els = root.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < els.length; i++) {
      if (els[i].textContent !== text) els[i].textContent = text;
      if (name === "note") els[i].hidden = text === "";
    }
  }

  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (d) {
        if (bar) {
          bar.value = d.percent;
          bar.textContent = d.percent + "%";
        }
        Object.keys(d.text || {}).forEach(function (k) { set(k, d.text[k]); });
        if (d.finished) {
          window.location.reload();
          return;
        }
        setTimeout(tick, 1000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1000);
})();
