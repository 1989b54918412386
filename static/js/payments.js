// Pending payment page: ask the server for the status every 2 seconds and
// reload when the payment is settled. The words on the page say what is happening.
(function () {
  "use strict";
  var box = document.getElementById("payment-status");
  if (!box || !box.dataset.statusUrl) { return; }
  var text = document.getElementById("payment-status-text");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return schedule(); }
        if (data.finished) { window.location.reload(); return; }
        if (text) { text.querySelector("strong").textContent = data.label; }
        schedule();
      })
      .catch(schedule);
  }
  function schedule() {
    // Slow down after a minute; the reconciliation job settles late answers.
    window.setTimeout(poll, tries < 30 ? 2000 : 10000);
  }
  schedule();
})();
