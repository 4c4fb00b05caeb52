/* Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can
   forbid inline script (script-src 'self'):
   - <select data-autosubmit> submits its form when the choice changes (a button in
     <noscript> does the same without JavaScript);
   - <form data-confirm="..."> asks before it is sent;
   - <form class="answer"> (an autosaving item of the review form) is never submitted
     as a whole: Enter in a field must not leave the page;
   - a refused form's message (role=alert) is brought into view, and so is a confirmation
     shown next to what it confirms ([data-confirmation], focused for screen readers);
   - <input data-filter-select="ID"> narrows the options of the <select id=ID> to those whose
     text holds what is typed (the /stats page's variables, by question text);
   - text typed into a <form data-unsaved-warning> and not sent makes the browser ask before
     the page is left (its own words, in the browser's language). */
(function () {
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches("form.answer")) { e.preventDefault(); return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });
  document.addEventListener("input", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("input[data-filter-select]")) return;
    var select = document.getElementById(el.getAttribute("data-filter-select"));
    if (!select) return;
    var words = el.value.toLowerCase().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var shown = 0;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (o) {
        var text = (o.textContent + " " + o.value + " " + group.label).toLowerCase();
        o.hidden = !o.selected && !words.every(function (w) { return text.indexOf(w) >= 0; });
        if (!o.hidden) shown++;
      });
      group.hidden = shown === 0;
    });
  });
  var unsaved = null;
  document.addEventListener("input", function (e) {
    var form = e.target.form || (e.target.closest && e.target.closest("form"));
    if (form && form.hasAttribute("data-unsaved-warning")) unsaved = form;
  });
  document.addEventListener("submit", function (e) { if (e.target === unsaved) unsaved = null; });
  window.addEventListener("beforeunload", function (e) {
    if (unsaved) { e.preventDefault(); e.returnValue = ""; }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var refused = document.querySelector("main .banner.error[role=alert]");
    if (refused) refused.scrollIntoView({block: "center"});
    /* a confirmation next to what it confirms (a saved draft): in view below the sticky
       header, and focused so a screen reader reads it */
    var confirmation = !refused && document.querySelector("[data-confirmation]");
    if (confirmation) { confirmation.focus({preventScroll: true}); confirmation.scrollIntoView({block: "center"}); }
  });
})();
