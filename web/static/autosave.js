/* Autosave guard: count requests in flight and fields typed in but not yet sent,
   warn before leaving with unsaved input, and say so when a save fails. */
(function () {
  var pending = 0;
  // The messages come from the page, in its language (data-msg-* on #autosave-texts).
  function msg(name, fallback) {
    var form = document.getElementById('autosave-texts');
    return (form && form.dataset[name]) || fallback;
  }
  function status(elt, text) {
    var item = elt.closest('.item'); if (!item) return;
    var s = item.querySelector('.status'); if (s) { s.textContent = text; s.className = 'status error'; }
  }
  document.addEventListener('input', function (e) { var i = e.target.closest('.item'); if (i) i.dataset.dirty = '1'; });
  document.body.addEventListener('htmx:beforeRequest', function (e) {
    pending++; var i = e.detail.elt.closest('.item'); if (i) { delete i.dataset.dirty;
      var s = i.querySelector('.status'); if (s) { s.textContent = msg('msgSaving', '…'); s.className = 'status'; } }
  });
  document.body.addEventListener('htmx:afterRequest', function (e) { pending = Math.max(0, pending - 1); });
  document.body.addEventListener('htmx:sendError', function (e) { status(e.detail.elt, msg('msgOffline', '!')); });
  document.body.addEventListener('htmx:responseError', function (e) {
    /* a busy database answers 503 with its own message (data-busy): show that one */
    var busy = new DOMParser().parseFromString(e.detail.xhr.responseText || '', 'text/html').querySelector('[data-busy]');
    status(e.detail.elt, busy ? busy.textContent : msg('msgFailed', '! {status}').replace('{status}', e.detail.xhr.status)); });
  window.addEventListener('beforeunload', function (e) {
    if (pending > 0 || document.querySelector('.item[data-dirty]')) { e.preventDefault(); e.returnValue = ''; }
  });
})();
