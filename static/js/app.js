// KYC Desk's only script besides htmx: keyboard shortcuts for reviewers,
// and showing server error pages in place for htmx requests. Pages work
// without it.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  }

  var current = -1;
  function select(i) {
    var all = rows();
    if (all.length === 0) return;
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (r, j) { r.classList.toggle("row-active", j === current); });
    var link = all[current].querySelector("a");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    switch (ev.key) {
      case "/":
        var q = document.getElementById("q");
        if (q) { ev.preventDefault(); q.focus(); q.select(); }
        break;
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
    }
  });

  // htmx 2 does not swap 4xx/5xx: replace the page with the server's error
  // page so the user reads what went wrong instead of seeing nothing.
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail.xhr;
    if (xhr && xhr.responseText && (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0) {
      document.open();
      document.write(xhr.responseText);
      document.close();
    }
  });
  document.addEventListener("htmx:afterSwap", function () { current = -1; });
})();

// Review shortcuts and the document viewer (views/reviews). On a case, "a"
// and "r" choose approve or reject in the proposal form and move to its
// reason, "n" goes to the note field, and "?" shows or hides the legend
// (Escape hides it). Without script the forms work as they are.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function legend() { return document.getElementById("shortcut-legend"); }

  // Only the reasons of the chosen decision stay selectable.
  function filterReasons(form) {
    if (!form) return;
    var checked = form.querySelector('input[name="decision"]:checked');
    var select = form.querySelector('select[name="reason"]');
    if (!checked || !select) return;
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var any = false;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (o) {
        var match = o.getAttribute("data-decision") === checked.value;
        o.hidden = !match;
        o.disabled = !match;
        any = any || match;
      });
      group.hidden = !any;
    });
    var selected = select.options[select.selectedIndex];
    if (selected && selected.disabled) select.value = "";
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var l = legend();
    if (ev.key === "Escape" && l && !l.hidden) { l.hidden = true; return; }
    if (typing(ev.target)) return;
    if (ev.key === "?") {
      if (l) { ev.preventDefault(); l.hidden = !l.hidden; }
      return;
    }
    if (ev.key !== "a" && ev.key !== "r" && ev.key !== "n") return;
    var el = document.querySelector('[data-shortcut="' + ev.key + '"]');
    if (!el) return;
    ev.preventDefault();
    if (el.type === "radio" || el.type === "checkbox") {
      el.checked = true;
      el.dispatchEvent(new Event("change", { bubbles: true }));
      var next = el.getAttribute("data-shortcut-focus");
      var target = next ? document.getElementById(next) : null;
      (target || el).focus();
    } else {
      el.focus();
    }
  });

  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.name === "decision") filterReasons(ev.target.form);
  });

  // The viewer: zoom and rotate an image in place (CSSOM transforms, which
  // the style-src CSP allows).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("[data-viewer-action]") : null;
    if (!btn) return;
    var fig = btn.closest("[data-viewer]");
    var img = fig ? fig.querySelector("[data-viewer-image]") : null;
    if (!img) return;
    var scale = parseFloat(fig.getAttribute("data-scale") || "1");
    var turn = parseInt(fig.getAttribute("data-rotate") || "0", 10);
    switch (btn.getAttribute("data-viewer-action")) {
      case "zoom-in": scale = Math.min(4, scale * 1.25); break;
      case "zoom-out": scale = Math.max(0.5, scale / 1.25); break;
      case "rotate": turn = (turn + 90) % 360; break;
      default: scale = 1; turn = 0;
    }
    fig.setAttribute("data-scale", String(scale));
    fig.setAttribute("data-rotate", String(turn));
    img.style.transform = "scale(" + scale + ") rotate(" + turn + "deg)";
  });

  function reveal() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-viewer-controls]"), function (el) { el.hidden = false; });
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
      if (f.querySelector('input[name="decision"]:checked')) filterReasons(f);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }
  document.addEventListener("htmx:afterSwap", reveal);
})();
