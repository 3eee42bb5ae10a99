/* RefundDesk's own behaviour in the browser, small and in a file: the Content-Security-Policy
   refuses inline scripts, event-handler attributes (onsubmit=…) and htmx's evaluated
   expressions, so what they did is done here, driven by data- attributes. */
(function () {
  "use strict";

  // <form data-confirm="question">: ask before sending a form that cannot be undone.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // An element with data-refresh-paused-while-focused (the console's queue) skips its
  // periodic htmx refresh while the keyboard focus is inside it: replacing it would take
  // away the control being used.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (element && element.hasAttribute("data-refresh-paused-while-focused")
        && element.matches(":focus-within")) {
      event.preventDefault();
    }
  });
})();
