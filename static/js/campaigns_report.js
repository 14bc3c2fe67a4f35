// Optline: live progress of a campaign. Polls the report's progress
// endpoint every 2 seconds (longer when the server says so for a big
// campaign) and updates the bar and the figures; reloads
// the page when the campaign's state changes (paused, resumed, done), so
// the buttons and the report match it. Without JavaScript the page offers
// a refresh link instead.
(function () {
  "use strict";
  var root = document.querySelector("[data-campaign-progress]");
  if (!root) return;
  var url = root.getAttribute("data-progress-url");
  var state = root.getAttribute("data-state");
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
        if (d.state !== state) {
          window.location.reload();
          return;
        }
        if (bar) {
          bar.value = d.percent;
          bar.textContent = d.percent + "%";
        }
        Object.keys(d.text || {}).forEach(function (k) { set(k, d.text[k]); });
        setTimeout(tick, Math.max(2000, d.next_ms || 2000));
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
