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
