// Optline profile area: live phone preview, character counters, the
// re-verification warning and upload size checks. Every page works
// without it; the server checks everything again.
(function () {
  "use strict";
  var chars = function (s) { return Array.from(s).length; };

  // Character counters: <p data-counter-for="f-about" data-template="%d / %d characters">.
  document.querySelectorAll("[data-counter-for]").forEach(function (out) {
    var input = document.getElementById(out.getAttribute("data-counter-for"));
    if (!input) return;
    var max = parseInt(input.getAttribute("data-count"), 10);
    var tpl = out.getAttribute("data-template") || "%d / %d";
    var update = function () {
      var n = chars(input.value.trim());
      out.textContent = tpl.replace("%d", n).replace("%d", max);
      out.classList.toggle("over", n > max);
    };
    input.addEventListener("input", update);
    update();
  });

  // Live preview: elements with data-preview="<field>" show that field.
  var form = document.getElementById("profile-form");
  var setText = function (el, value) {
    var empty = el.getAttribute("data-empty") || "";
    el.textContent = value || empty;
    el.classList.toggle("pv-empty", !value && empty !== "");
  };
  var valueOf = function (input) {
    if (input.tagName === "SELECT") {
      return input.value === "UNDEFINED" ? "" : input.options[input.selectedIndex].text;
    }
    return input.value.trim().replace(/[ \t]+/g, " ");
  };
  if (form) {
    var refresh = function (input) {
      var name = input.name, value = valueOf(input);
      document.querySelectorAll('[data-preview="' + name + '"]').forEach(function (el) { setText(el, value); });
      var row = document.querySelector('[data-preview-row="' + name + '"]');
      if (row) row.hidden = value === "";
      if (name === "display_name") {
        document.querySelectorAll("[data-preview-initial]").forEach(function (el) {
          el.textContent = value ? Array.from(value)[0] : "?";
        });
      }
    };
    form.addEventListener("input", function (ev) { if (ev.target.name) refresh(ev.target); });
    form.addEventListener("change", function (ev) { if (ev.target.name) refresh(ev.target); });
  }

  // Re-verification warning: open it as soon as a reviewed name differs.
  document.querySelectorAll("form[data-verified='true']").forEach(function (f) {
    var box = document.getElementById("reverify");
    var name = document.getElementById(f.getAttribute("data-name-field") || "f-display_name");
    if (!box || !name) return;
    var saved = f.getAttribute("data-saved-name");
    var hasError = box.querySelector(".error") !== null;
    var badges = f.id === "profile-form" ? document.querySelectorAll(".pv-badge") : [];
    name.addEventListener("input", function () {
      var same = name.value.trim().replace(/\s+/g, " ") === saved;
      box.hidden = !hasError && same;
      // The preview shows the badge only for the reviewed name.
      badges.forEach(function (b) { b.hidden = !same; });
    });
  });

  // Uploads: refuse files over the limit before sending them, and show a
  // chosen photo at once (blob: URLs are allowed by the page's policy).
  document.querySelectorAll("form.upload").forEach(function (f) {
    var input = f.querySelector("input[type=file]");
    var err = f.querySelector(".error");
    var max = parseInt(f.getAttribute("data-max-bytes"), 10);
    if (!input) return;
    var tooBig = function () { return input.files.length > 0 && input.files[0].size > max; };
    input.addEventListener("change", function () {
      var big = tooBig();
      if (err) {
        err.hidden = !big;
        if (big) err.textContent = f.getAttribute("data-too-large");
      }
      input.setAttribute("aria-invalid", big ? "true" : "false");
      if (!big && input.files.length > 0 && f.hasAttribute("data-preview-photo-input") && window.URL) {
        var url = URL.createObjectURL(input.files[0]);
        document.querySelectorAll(".pv-avatar, .photo-frame").forEach(function (frame) {
          var img = frame.querySelector("img");
          if (!img) {
            frame.textContent = "";
            img = document.createElement("img");
            img.alt = "";
            frame.appendChild(img);
          }
          img.src = url;
        });
      }
    });
    f.addEventListener("submit", function (ev) {
      if (tooBig()) {
        ev.preventDefault();
        input.focus();
      }
    });
  });
})();
