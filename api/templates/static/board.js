// Live search over the rows already on the page (the form searches the server without JS).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("q");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#containers tbody tr"));
  var shown = document.getElementById("shown");
  if (!box) { return; }
  box.addEventListener("input", function () {
    var wanted = box.value.trim().toUpperCase();
    var count = 0;
    rows.forEach(function (row) {
      var hit = !wanted || row.textContent.toUpperCase().indexOf(wanted) !== -1;
      row.hidden = !hit;
      if (hit) { count += 1; }
    });
    if (shown) { shown.textContent = String(count); }
  });
});
