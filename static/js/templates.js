// Optline message templates: the editor's live preview. The server
// renders the preview (with the one template renderer) from what is
// typed; this script only asks for it as the user types and puts it in
// place. Without it, "Update preview" does the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) return;
  var chars = function (s) { return Array.from(s).length; };

  // Character counters: <p data-counter-for="f-body" data-template="%d / %d characters">.
  var counters = function () {
    document.querySelectorAll("[data-counter-for]").forEach(function (out) {
      var input = document.getElementById(out.getAttribute("data-counter-for"));
      if (!input) return;
      var max = parseInt(input.getAttribute("data-count"), 10);
      var tpl = out.getAttribute("data-template") || "%d / %d";
      var n = chars(input.value.trim());
      out.textContent = tpl.replace("%d", n).replace("%d", max);
      out.classList.toggle("over", n > max);
    });
  };

  // Button rows show the fields of their kind only.
  var buttonRows = function () {
    form.querySelectorAll("[data-button-row]").forEach(function (row) {
      var sel = row.querySelector("select");
      var kind = sel ? sel.value : "";
      row.querySelectorAll("[data-show-for]").forEach(function (part) {
        part.hidden = part.getAttribute("data-show-for") !== kind;
      });
      row.querySelectorAll("[data-hide-for]").forEach(function (part) {
        part.hidden = part.getAttribute("data-hide-for") === kind;
      });
    });
  };

  var replace = function (doc, id, keepIfSame) {
    var fresh = doc.getElementById(id), cur = document.getElementById(id);
    if (!fresh || !cur) return;
    if (keepIfSame && cur.getAttribute(keepIfSame) === fresh.getAttribute(keepIfSame)) return;
    cur.replaceWith(document.importNode(fresh, true));
  };

  var timer = null, seq = 0;
  var refresh = function () {
    var mine = ++seq;
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      if (html === null || mine !== seq) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      replace(doc, "tpl-preview");
      replace(doc, "optout-warning");
      // Sample fields change only when the number of variables does, so
      // typing in a sample never loses its focus.
      replace(doc, "tpl-samples", "data-vars");
      var cur = document.getElementById("tpl-header-sample"), fresh = doc.getElementById("tpl-header-sample");
      if (cur && fresh && !!cur.querySelector("input") !== !!fresh.querySelector("input")) {
        cur.replaceWith(document.importNode(fresh, true));
      }
      counters();
    }).catch(function () { /* the preview stays as it was */ });
  };
  var schedule = function () {
    counters();
    buttonRows();
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  counters();
  buttonRows();
})();
