// 参保登记: 参保地 follows the person chosen in "为谁登记" (each option carries
// the region to offer them: their own, else their identity number's), until
// the citizen picks a region themself. No inline script (CSP).
(function () {
  "use strict";
  var person = document.getElementById("id_person");
  var region = document.getElementById("id_region");
  if (!person || !region || person.tagName !== "SELECT") { return; }
  var chosenByHand = false;
  region.addEventListener("change", function () { chosenByHand = true; });
  person.addEventListener("change", function () {
    if (chosenByHand) { return; }
    var chosen = person.options[person.selectedIndex];
    region.value = (chosen && chosen.getAttribute("data-region")) || "";
  });
})();
