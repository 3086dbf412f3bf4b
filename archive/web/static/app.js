// The pages' only script of their own: send the CSRF token with htmx's requests, show times in
// the reader's zone and language, and let the playback speed be chosen.
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)archive_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function localTimes(root) {
    var language = document.documentElement.lang || undefined;
    root.querySelectorAll("time[datetime]").forEach(function (element) {
      var value = element.getAttribute("datetime");
      var moment = new Date(value);
      if (isNaN(moment.getTime())) {
        return;
      }
      var withTime = element.textContent.indexOf(":") !== -1;
      // Audit records want the second and the zone: two records a minute apart, or a reader
      // in another zone than the one who acted, must not be misread.
      var exact = element.getAttribute("data-precision") === "seconds";
      element.textContent = exact
        ? moment.toLocaleString(language, { dateStyle: "short", timeStyle: "long" })
        : withTime
        ? moment.toLocaleString(language, { dateStyle: "medium", timeStyle: "short" })
        : moment.toLocaleDateString(language, { dateStyle: "medium" });
      element.title = value;
    });
  }

  function speedControls(root) {
    root.querySelectorAll("select[data-controls]").forEach(function (select) {
      var media = document.getElementById(select.getAttribute("data-controls"));
      if (!media) {
        return;
      }
      select.addEventListener("change", function () {
        media.playbackRate = parseFloat(select.value) || 1;
      });
    });
  }

  // A table shown as cards on a narrow screen names each cell by its column; templates may
  // write the names themselves, the rest are taken from the table's head.
  function cardLabels(root) {
    root.querySelectorAll("table.cards").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (!cell.hasAttribute("data-label") && heads[index]) {
            cell.setAttribute("data-label", heads[index].textContent.trim());
          }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    speedControls(document);
    cardLabels(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    localTimes(event.detail.target.parentNode || document);
    cardLabels(event.detail.target.parentNode || document);
  });
})();
