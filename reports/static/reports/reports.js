/* The managers' reports: the Print button prints the page (print styles in reports.css). */
(function () {
  "use strict";
  document.querySelectorAll("button.print").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
