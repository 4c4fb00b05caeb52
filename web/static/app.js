/* Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can
   forbid inline script (script-src 'self'):
   - <form data-download> (a file that takes seconds) shows "preparing…" on a disabled,
     aria-busy button until the file is complete;
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
  /* <form method=get data-download>: a file that takes seconds to make. The button is
     disabled and aria-busy, the status beside it says "preparing…" (announced), and the file
     is fetched and handed to the browser when it is complete. Without JavaScript the form
     simply downloads. */
  function downloadText(name, fallback) {
    var texts = document.getElementById("download-texts");
    return (texts && texts.dataset[name]) || fallback;
  }
  function fileName(resp, fallback) {
    var cd = resp.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    if (star) { try { return decodeURIComponent(star[1]); } catch (err) { /* fall through */ } }
    var plain = /filename="?([^";]+)"?/i.exec(cd);
    return plain ? plain[1] : fallback;
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-download") || !window.fetch || !window.URL || !URL.createObjectURL) return;
    e.preventDefault();
    var button = form.querySelector("button"), status = form.querySelector(".download-status");
    if (!button || button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (status) status.textContent = downloadText("msgPreparing", "…");
    var url = form.action, fallback = url.split("/").pop();
    fetch(url, {credentials: "same-origin"}).then(function (resp) {
      if (!resp.ok) throw resp.status;
      var name = fileName(resp, fallback);
      return resp.blob().then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
        if (status) status.textContent = downloadText("msgDone", "");
      });
    }).catch(function (code) {
      if (status) status.textContent = downloadText("msgFailed", "!").replace("{status}", typeof code === "number" ? code : "–");
    }).then(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
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
