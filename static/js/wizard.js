/* Small enhancements on top of pages that work without JavaScript. Loaded with `defer` from
   'self' only: the Content-Security-Policy allows no inline script and no eval.

   - After htmx swaps in a new page (a question, the check page, an error), focus moves to its
     error summary if it has one, or else to its main heading, so keyboard and screen-reader users
     start at the new content and hear errors at once.
   - A page that loads with an error summary focuses it too (the GOV.UK error summary pattern), and
     its links move focus to the field and bring its question into view.
   - Forms marked data-prevent-double-click ignore a second submit within a second (htmx forms
     use hx-sync="this:drop" for the same purpose).
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

  function onLoad() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      focusWithoutScrolling(summary);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onLoad);
  } else {
    onLoad();
  }
})();
