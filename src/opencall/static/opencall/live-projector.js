// The projector's live standings, fed by the fast path's server-sent events (data-events on the
// script tag, maybe on another origin: OPENCALL_LIVE_URL). Bar widths are set through the CSSOM,
// which the style-src policy allows (only style attributes in markup are refused).
(function () {
  "use strict";
  var config = document.currentScript ? document.currentScript.dataset : null;
  if (!config || !config.events) { return; }
  var labels = {open: config.labelOpen, closed: config.labelClosed, published: config.labelPublished,
                draft: config.labelDraft};
  var source = new EventSource(config.events);
  source.addEventListener("tally", function (event) {
    var data = JSON.parse(event.data);
    var top = Math.max.apply(null, Object.values(data.counts).concat([1]));
    document.getElementById("turnout").textContent = data.turnout;
    document.getElementById("state").textContent = labels[data.state] || data.state;
    document.getElementById("closes-in").textContent =
      data.state === "open" ? Math.round(data.closes_in) + " " + config.secondsLeft : "";
    Object.keys(data.counts).forEach(function (id) {
      var bar = document.querySelector('.bar[data-idea="' + id + '"]');
      if (!bar) { return; }
      bar.querySelector(".fill").style.width = (100 * data.counts[id] / top) + "%";
      bar.querySelector(".count").textContent = data.counts[id];
    });
  });
})();
