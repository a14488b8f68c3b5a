// The organiser's console while a live vote is open: turnout, rate and counts from the fast path's
// server-sent events (data-events on the script tag, maybe on another origin: OPENCALL_LIVE_URL).
(function () {
  "use strict";
  var config = document.currentScript ? document.currentScript.dataset : null;
  if (!config || !config.events) { return; }
  var source = new EventSource(config.events);
  source.addEventListener("tally", function (event) {
    var data = JSON.parse(event.data);
    document.getElementById("turnout").textContent = data.turnout;
    document.getElementById("rate").textContent = data.votes_per_second;
    document.getElementById("closes-in").textContent = Math.round(data.closes_in);
    Object.keys(data.counts).forEach(function (id) {
      var cell = document.querySelector('[data-idea="' + id + '"]');
      if (cell) { cell.textContent = data.counts[id]; }
    });
  });
})();
