/* Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can
   forbid inline script (script-src 'self'):
   - <select data-autosubmit> submits its form when the choice changes (a button in
     <noscript> does the same without JavaScript);
   - <form data-confirm="..."> asks before it is sent;
   - <form class="answer"> (an autosaving item of the review form) is never submitted
     as a whole: Enter in a field must not leave the page;
   - a refused form's message (role=alert) is brought into view. */
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
  document.addEventListener("DOMContentLoaded", function () {
    var refused = document.querySelector("main .banner.error[role=alert]");
    if (refused) refused.scrollIntoView({block: "center"});
  });
})();
