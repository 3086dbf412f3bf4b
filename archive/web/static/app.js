// The pages' only script of their own: send the CSRF token with htmx's requests, show times in
// the reader's zone and language, let the playback speed be chosen, mark the words a search
// found in the contact it opened, and tie a call's transcript to its player.
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

  // A call's transcript follows its player: the line being played is marked (and kept in
  // view), and choosing a line seeks the player to where it was said.
  function transcriptFollows(root) {
    root.querySelectorAll("ol[data-player]").forEach(function (list) {
      var media = document.getElementById(list.getAttribute("data-player"));
      if (!media) {
        return;
      }
      var lines = Array.prototype.slice.call(list.querySelectorAll("[data-start]"));
      var current = null;
      function follow() {
        var at = media.currentTime * 1000;
        var found = null;
        lines.forEach(function (line) {
          var start = parseInt(line.getAttribute("data-start"), 10);
          var end = parseInt(line.getAttribute("data-end"), 10);
          if (start <= at && at < Math.max(end, start + 1)) {
            found = line;
          }
        });
        if (found === current) {
          return;
        }
        if (current) {
          current.classList.remove("current");
          current.removeAttribute("aria-current");
        }
        current = found;
        if (current) {
          current.classList.add("current");
          current.setAttribute("aria-current", "true");
          current.scrollIntoView({ block: "nearest" });
        }
      }
      media.addEventListener("timeupdate", follow);
      media.addEventListener("seeked", follow);
      list.addEventListener("click", function (event) {
        var line = event.target.closest("[data-start]");
        if (!line) {
          return;
        }
        media.currentTime = parseInt(line.getAttribute("data-start"), 10) / 1000;
        follow();
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

  // A hit of the search opens its contact with the words found after "#find=" in the address:
  // the fragment never reaches the server, so the words are in no request and no log.
  function markFound(root) {
    var hash = window.location.hash;
    if (hash.indexOf("#find=") !== 0) {
      return;
    }
    var words = decodeURIComponent(hash.slice(6)).split(",").filter(function (word) {
      return word.length > 0;
    });
    if (!words.length) {
      return;
    }
    var escaped = words.map(function (word) {
      return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    });
    var pattern = new RegExp("(^|[^\\p{L}\\p{N}])(" + escaped.join("|") + ")(?![\\p{L}\\p{N}])", "giu");
    root.querySelectorAll(".message .text, .email-body, .transcript-line .text").forEach(function (element) {
      var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      var nodes = [];
      while (walker.nextNode()) {
        nodes.push(walker.currentNode);
      }
      nodes.forEach(function (node) {
        var text = node.nodeValue;
        var pieces = document.createDocumentFragment();
        var at = 0;
        var found = false;
        text.replace(pattern, function (match, before, word, offset) {
          var start = offset + before.length;
          pieces.appendChild(document.createTextNode(text.slice(at, start)));
          var mark = document.createElement("mark");
          mark.className = "found";
          mark.textContent = word;
          pieces.appendChild(mark);
          at = start + word.length;
          found = true;
          return match;
        });
        if (found) {
          pieces.appendChild(document.createTextNode(text.slice(at)));
          node.parentNode.replaceChild(pieces, node);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    speedControls(document);
    transcriptFollows(document);
    cardLabels(document);
    markFound(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    localTimes(event.detail.target.parentNode || document);
    cardLabels(event.detail.target.parentNode || document);
  });
})();
