/* Canned replies on the case page (console/case/_reply_insert.html): the chosen reply,
   already filled in for the case by the server, goes in at the cursor of its textarea
   instead of reloading the page. In a file because the Content-Security-Policy refuses
   inline scripts. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-reply-insert")) {
      return;
    }
    var target = document.getElementById(form.getAttribute("data-target") || "");
    var select = form.querySelector('select[name="reply"]');
    var option = select && select.options[select.selectedIndex];
    if (!target || !option || !option.hasAttribute("data-text")) {
      return;  // the page reload inserts it instead
    }
    event.preventDefault();
    var text = option.getAttribute("data-text");
    var start = target.selectionStart, end = target.selectionEnd;
    if (typeof start !== "number" || document.activeElement !== target && !target.value) {
      start = end = target.value.length;
    }
    target.value = target.value.slice(0, start) + text + target.value.slice(end);
    target.focus();
    target.setSelectionRange(start + text.length, start + text.length);
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
