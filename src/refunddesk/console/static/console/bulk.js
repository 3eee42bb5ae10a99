/* The queue's bulk bar (console/queue/_bulk_bar.html), in a file because the
   Content-Security-Policy refuses inline scripts. Without it the bar still works: every
   field is shown and "Select all on this page" is sent to the server as such. */
(function () {
  "use strict";

  function bar() { return document.querySelector("form[data-bulk-bar]"); }
  function rowBoxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll('input.queue-select[form="queue-bulk"]'));
  }

  function showFieldsOf(form) {
    var action = form.querySelector('select[name="action"]');
    var chosen = action ? action.value : "";
    form.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      field.hidden = field.getAttribute("data-bulk-for") !== chosen;
    });
  }

  function updateCount() {
    var form = bar();
    if (!form) { return; }
    var boxes = rowBoxes();
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    var all = form.querySelector("[data-bulk-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.hidden = false;
      count.textContent = (form.getAttribute("data-count-text") || "{n}").replace("{n}", ticked);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = bar();
    if (!form) { return; }
    var all = form.querySelector("[data-bulk-select-all]");
    if (all) {
      // Here "select all" ticks the rows themselves, which the agent then sees and can
      // untick one by one; the server's "all on the page" list is for pages without JS.
      all.removeAttribute("name");
      all.addEventListener("change", function () {
        rowBoxes().forEach(function (box) { box.checked = all.checked; });
        updateCount();
      });
    }
    var action = form.querySelector('select[name="action"]');
    if (action) { action.addEventListener("change", function () { showFieldsOf(form); }); }
    showFieldsOf(form);
    updateCount();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.classList.contains("queue-select")) {
      updateCount();
    }
  });

  // The rows reload every 30 seconds; replacing them would drop the agent's ticks, so the
  // reload waits while any case is ticked.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (element && element.id === "queue-region"
        && rowBoxes().some(function (box) { return box.checked; })) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterSwap", updateCount);
})();
