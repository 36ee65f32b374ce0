/* ReDoc (/api/redoc/): renders the schema named in the container's data-spec-url.
   ReDoc adds its styles as style elements; it marks them with the nonce this
   script was loaded with, which the page's Content-Security-Policy allows. */
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  Redoc.init(container.dataset.specUrl, {nonce: document.currentScript.nonce}, container);
})();
