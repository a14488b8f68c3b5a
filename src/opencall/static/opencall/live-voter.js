// The phone's ballot on a live vote. Votes go straight to the fast path (data-endpoint on #ballot,
// maybe on another origin: OPENCALL_LIVE_URL); the page's texts come from the script tag's data-.
(function () {
  "use strict";
  var ballot = document.getElementById("ballot");
  var tokenData = document.getElementById("live-token");
  var config = document.currentScript ? document.currentScript.dataset : null;
  if (!ballot || !tokenData || !config) { return; }
  var freshToken = JSON.parse(tokenData.textContent);
  var endpoint = ballot.dataset.endpoint;
  var store = "opencall-live-" + config.code;
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { saved = {}; }
  // In a sign-in vote the page's token is the signed-in account's: a phone handed to another person must
  // not go on voting with the previous account's device. In an anonymous vote the kept device wins (the
  // cookie binding the browser to it may have been cleared while the storage was not).
  if (!saved.token || (config.signIn === "true" && saved.token !== freshToken)) {
    saved = {token: freshToken, seq: 0};
  }
  var text = {
    sending: config.textSending,
    recorded: config.textRecorded,
    closed: config.textClosed,
    retry: config.textRetry,
    refused: config.textRefused
  };
  // The page's own (translated) words for a problem the fast path names by its type, e.g. ".../sign-in-required"
  // → data-text-problem-sign-in-required (dataset: textProblemSignInRequired).
  function problemText(body) {
    var code = String((body && body.type) || "").split("/").pop();
    var key = "textProblem" + code.split("-").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join("");
    return code && config[key] ? config[key] : "";
  }
  var status = document.getElementById("status");
  function save() { try { localStorage.setItem(store, JSON.stringify(saved)); } catch (e) {} }
  function mark(idea) {
    ballot.querySelectorAll("button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.idea === String(idea)));
    });
  }
  if (saved.idea) { mark(saved.idea); }
  function randomId() {
    var bytes = new Uint8Array(12); crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function send(vote, attempt) {
    // The compact form (fields in the query, token in a header, no body): the cheapest for the server.
    var query = new URLSearchParams({idea: vote.idea, vote_id: vote.vote_id, seq: vote.seq});
    fetch(endpoint + "?" + query, {method: "POST", headers: {"Authorization": "Bearer " + vote.token}})
      .then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      })
      .then(function (answer) {
        if (answer.status === 200) {
          if (answer.body.status === "recorded") { saved.idea = vote.idea; save(); mark(vote.idea); }
          status.textContent = text.recorded;
          var form = document.getElementById("reward-form");
          if (form) { document.getElementById("reward-token").value = saved.token; form.hidden = false; }
        } else if (answer.status === 429 || answer.status === 503) {
          status.textContent = text.retry;
          setTimeout(function () { send(vote, attempt + 1); }, 1000 * Math.min(8, attempt + 1));
        } else if (answer.status === 403 && answer.body.type.endsWith("invalid-token")) {
          saved = {token: freshToken, seq: 0}; save(); location.reload();
        } else if (answer.status === 409) {
          status.textContent = text.closed;
        } else {
          status.textContent = text.refused + " " + (problemText(answer.body) || answer.body.detail || answer.status);
        }
      })
      .catch(function () {
        // Same vote_id on every retry: the server counts it once, however often it arrives.
        status.textContent = text.retry;
        setTimeout(function () { send(vote, attempt + 1); }, 1000 * Math.min(8, attempt + 1));
      });
  }
  ballot.querySelectorAll("button").forEach(function (button) {
    button.addEventListener("click", function () {
      saved.seq = (saved.seq || 0) + 1; save();
      status.textContent = text.sending;
      send({token: saved.token, idea: Number(button.dataset.idea), vote_id: randomId(), seq: saved.seq}, 0);
    });
  });
})();
