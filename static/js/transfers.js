// The transfer detail page refreshes itself: it polls the status endpoint and
// reloads when the transfer changed (a new step, a rejection). No inline script (CSP).
(function () {
  "use strict";
  var root = document.getElementById("transfer-detail");
  if (!root || root.dataset.open !== "1") { return; }
  var url = root.dataset.statusUrl;
  var version = root.dataset.version;
  var seconds = parseInt(root.dataset.pollSeconds, 10) || 3;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.version !== version) { window.location.reload(); return; }
        if (data && !data.open) { return; }
        window.setTimeout(poll, seconds * 1000);
      })
      .catch(function () { window.setTimeout(poll, seconds * 2000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
