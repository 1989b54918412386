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

// 申请转移接续: the name field follows the person chosen in "为谁办理" (each
// option carries the person's name), so choosing a relative does not leave
// the applicant's own name behind.
(function () {
  "use strict";
  var person = document.getElementById("id_person");
  var name = document.getElementById("id_name");
  if (!person || !name || person.tagName !== "SELECT") { return; }
  var previous = person.options[person.selectedIndex];
  person.addEventListener("change", function () {
    var chosen = person.options[person.selectedIndex];
    var before = previous ? previous.getAttribute("data-name") : null;
    // A name typed by hand for the same person is left as it is.
    if (chosen && chosen.hasAttribute("data-name") && (!name.value || name.value === before)) {
      name.value = chosen.getAttribute("data-name");
    }
    previous = chosen;
  });
})();
