// The alerts list says when the open alerts change, without reloading itself (a page that
// reloads on its own interrupts a screen reader and fails WCAG 2.2.1). Every `data-poll-seconds`
// it asks the summary URL for the open alerts' count and fingerprint (no patient data); when they
// differ from what the page shows, a live region says so, with a link that shows the current
// list, and the tab's title carries the count. Each check also counts the "time left" column
// down (by the server's clock, as the page did), so a deadline passing shows as overdue. The
// summary request does not count as activity:
// an unattended list is still signed out after the idle limit, and then says so and stops.
// Without JavaScript the list is the same page, refreshed by hand, and says so (#alerts-static,
// which this script hides once it watches the list).
(function () {
  "use strict";
  var watch = document.getElementById("alerts-watch");
  if (!watch || !window.fetch) {
    return;
  }
  var manual = document.getElementById("alerts-static");
  if (manual) {
    manual.hidden = true;
  }
  var summaryUrl = watch.getAttribute("data-summary-url");
  var seconds = Number(watch.getAttribute("data-poll-seconds")) || 60;
  var shown = watch.getAttribute("data-fingerprint");
  var shownOpen = Number(watch.getAttribute("data-open"));
  var status = document.getElementById("alerts-status");
  var title = document.title;
  var timer = null;
  var lastSaid = "";

  function say(text, linkText, href) {
    var said = text + "|" + (linkText || "");
    if (said === lastSaid) {
      return; // a live region that repeats itself every minute is noise
    }
    lastSaid = said;
    status.textContent = "";
    status.appendChild(document.createTextNode(text + " "));
    if (linkText) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = linkText;
      status.appendChild(link);
    }
  }

  function ended() {
    window.clearInterval(timer);
    document.title = title;
    say("Your session has ended, so this list no longer updates.", "Sign in again", watch.getAttribute("data-sign-in-url"));
  }

  // The same wording as the page (care.views.time_left): "7 h 59 min left", "overdue by 5 min".
  function span(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var hours = Math.floor(minutes / 60);
    var days = Math.floor(hours / 24);
    minutes = minutes % 60;
    hours = hours % 24;
    if (days) {
      return days + " d " + hours + " h";
    }
    return hours ? hours + " h " + minutes + " min" : minutes + " min";
  }

  function countDown(serverNow) {
    var cells = document.querySelectorAll("td[data-due]");
    for (var i = 0; i < cells.length; i++) {
      var left = Number(cells[i].getAttribute("data-due")) - serverNow;
      var overdue = left < 0;
      cells[i].textContent = overdue ? "overdue by " + span(left) : span(left) + " left";
      cells[i].classList.toggle("overdue", overdue);
    }
  }

  function update(summary) {
    if (typeof summary.now === "number") {
      countDown(summary.now);
    }
    if (summary.fingerprint === shown) {
      status.textContent = ""; // back to what the page shows (a live region stays in place)
      lastSaid = "";
      document.title = title;
      return;
    }
    var now = summary.open === 1 ? "1 open alert now" : summary.open + " open alerts now";
    var before = shownOpen === 1 ? "1 on this page" : shownOpen + " on this page";
    var what = summary.open > shownOpen ? "New alerts: " : "The open alerts changed: ";
    say(what + now + " (" + before + ").", "Show the current list", window.location.pathname);
    document.title = "(" + summary.open + ") " + title;
  }

  function check() {
    window.fetch(summaryUrl, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual", // signed out: the gate answers with a redirect to the sign-in page
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        ended();
        return null;
      }
      return response.ok ? response.json() : null; // anything else: try again next time
    }).then(function (summary) {
      if (summary) {
        update(summary);
      }
    }).catch(function () {
      // offline for a moment: the next check will tell
    });
  }

  timer = window.setInterval(check, seconds * 1000);
})();
