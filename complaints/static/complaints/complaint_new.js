/* The complaint form's shop search: fills the datalist from the URL in its
   data-url as the consumer types (the field works without it). */
(function () {
  "use strict";
  var input = document.getElementById("id_shop"), list = document.getElementById("shop-options"), timer;
  if (!input || !list || !window.fetch) return;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (!q) return;
      fetch(list.dataset.url + "?q=" + encodeURIComponent(q))
        .then(function (r) { return r.json(); })
        .then(function (data) {
          list.replaceChildren();
          data.results.forEach(function (shop) {
            var option = document.createElement("option");
            option.value = shop.shop_id;
            option.textContent = shop.name + " (" + shop.shop_id + ")";
            list.appendChild(option);
          });
        });
    }, 200);
  });
})();

/* A category's guidance (what a complaint of it needs, [data-guidance]) shows
   while that category is chosen; without the script every guidance shows. */
(function () {
  "use strict";
  var radios = document.querySelectorAll(".categories input[type=radio]");
  function show() {
    radios.forEach(function (radio) {
      var guidance = radio.closest("label").querySelector("[data-guidance]");
      if (guidance) guidance.hidden = !radio.checked;
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", show); });
  show();
})();
