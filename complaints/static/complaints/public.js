/* The consumer's pages: where the reader's device is in another time zone, add
   their own local time after each instant; a "go back" link returns to the
   previous page (keeping what was typed there) when there is one. */
(function () {
  "use strict";
  var yours = document.currentScript.dataset.yourTime;
  document.querySelectorAll("time.instant[data-offset]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at) || -at.getTimezoneOffset() === parseInt(el.dataset.offset, 10) || !window.Intl) return;
    var text = new Intl.DateTimeFormat(document.documentElement.lang, {dateStyle: "medium", timeStyle: "short"}).format(at);
    el.insertAdjacentText("afterend", " (" + yours + ": " + text + ")");
  });
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (history.length > 1) { history.back(); event.preventDefault(); }
    });
  });
})();
