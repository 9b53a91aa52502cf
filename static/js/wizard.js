/* Small enhancements on top of pages that work without JavaScript. Loaded with `defer` from
   'self' only: the Content-Security-Policy allows no inline script and no eval.

   - After htmx swaps in a new page (a question, the check page, an error), focus moves to its
     error summary if it has one, or else to its main heading, so keyboard and screen-reader users
     start at the new content and hear errors at once.
   - A page that loads with an error summary focuses it too (the GOV.UK error summary pattern), and
     its links move focus to the field and bring its question into view.
   - Forms marked data-prevent-double-click ignore a second submit within a second (htmx forms
     use hx-sync="this:drop" for the same purpose).
   - A "Copy link" button (hidden until this script runs) copies a result's link.
   - If htmx cannot reach the server at all, the form is sent the ordinary way, so the person sees
     what their browser says instead of nothing. */
(function () {
  "use strict";

  function focusWithoutScrolling(element) {
    if (!element.hasAttribute("tabindex")) {
      element.setAttribute("tabindex", "-1");
      // Headings are only focusable for this one move; a later click should not focus them.
      element.addEventListener(
        "blur",
        function () {
          element.removeAttribute("tabindex");
        },
        { once: true }
      );
    }
    element.focus({ preventScroll: true });
  }

  function focusNewContent(root) {
    var summary = root.querySelector(".error-summary");
    var heading = root.querySelector("main h1, h1");
    var target = summary || heading;
    if (!target) {
      return;
    }
    window.scrollTo(0, 0);
    focusWithoutScrolling(target);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;
    // Out-of-band swaps (the back link) settle too; only the main content moves focus.
    if (swapped && (swapped.id === "main-content" || swapped === document.body)) {
      focusNewContent(swapped);
    }
  });

  // An error summary's link points at the first radio or field: focus it and show its question.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary__list a[href^='#']");
    if (!link) {
      return;
    }
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) {
      return;
    }
    event.preventDefault();
    var legend = input.closest("fieldset") && input.closest("fieldset").querySelector("legend");
    var details = input.closest("details");
    if (details) {
      details.open = true;
    }
    (legend || input).scrollIntoView();
    input.focus({ preventScroll: true });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-prevent-double-click")) {
      return;
    }
    if (form.getAttribute("data-submitted") === "true") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitted", "true");
    window.setTimeout(function () {
      form.removeAttribute("data-submitted");
    }, 1000);
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.tagName === "FORM") {
      form.submit(); // not intercepted by htmx: a plain POST to the form's action
    }
  });

  // A copy button (hidden without JavaScript, where the plain link is there to copy) copies
  // the address of the link its data-copy names, and says so in its status line.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) {
      return;
    }
    var link = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (!link) {
      return;
    }
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(link.href).then(
        function () {
          say("Link copied.");
        },
        function () {
          say("Your browser did not allow copying: select the link and copy it.");
        }
      );
    } else {
      say("Select the link and copy it.");
    }
  });

  // A printed page says the day it was printed, also when the page was loaded days earlier.
  window.addEventListener("beforeprint", function () {
    var today = new Date().toLocaleDateString("en-GB", {
      day: "numeric",
      month: "long",
      year: "numeric",
    });
    var spans = document.querySelectorAll("[data-print-date]");
    for (var i = 0; i < spans.length; i++) {
      spans[i].textContent = today;
    }
  });

  function onLoad() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      focusWithoutScrolling(summary);
    }
    var buttons = document.querySelectorAll("button[data-copy][hidden]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onLoad);
  } else {
    onLoad();
  }
})();
