// Small behaviours shared by every page. The Content-Security-Policy forbids inline handlers
// (onsubmit=, onfocus=) and inline <script>, so markup asks for them with data- attributes instead.
(function () {
  "use strict";

  // <form data-confirm="Question?">: ask before sending. Listening on the document catches forms
  // that HTMX swaps in later too.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <input data-select-on-focus>: select the whole value (a token shown once, to be copied).
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
      field.select();
    }
  });

  // <... data-jump-to-hash>: content that arrives after the page (the discussion, loaded by HTMX)
  // holds the #comment-N a link pointed at, so scroll to it once it is here.
  function jumpToHash(root) {
    if (!(root instanceof Element)) { return; }
    var holder = root.matches("[data-jump-to-hash]") ? root : root.querySelector("[data-jump-to-hash]");
    if (!holder || !window.location.hash) { return; }
    var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (target && holder.contains(target) && target.classList.contains("comment")) { target.scrollIntoView(); }
  }
  document.addEventListener("htmx:load", function (event) { jumpToHash(event.detail && event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { jumpToHash(document.body); });
})();
