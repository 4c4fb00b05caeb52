/* Autosave guard: count requests in flight and fields typed in but not yet sent,
   warn before leaving with unsaved input, and say so when a save fails. */
(function () {
  var pending = 0;
  function status(elt, text) {
    var item = elt.closest('.item'); if (!item) return;
    var s = item.querySelector('.status'); if (s) { s.textContent = text; s.className = 'status error'; }
  }
  document.addEventListener('input', function (e) { var i = e.target.closest('.item'); if (i) i.dataset.dirty = '1'; });
  document.body.addEventListener('htmx:beforeRequest', function (e) {
    pending++; var i = e.detail.elt.closest('.item'); if (i) { delete i.dataset.dirty;
      var s = i.querySelector('.status'); if (s) { s.textContent = 'Saving…'; s.className = 'status'; } }
  });
  document.body.addEventListener('htmx:afterRequest', function (e) { pending = Math.max(0, pending - 1); });
  document.body.addEventListener('htmx:sendError', function (e) { status(e.detail.elt, 'Not saved: no connection. Your input is kept here; change it again or reload when online.'); });
  document.body.addEventListener('htmx:responseError', function (e) { status(e.detail.elt, 'Not saved: the server answered ' + e.detail.xhr.status + '. Your input is kept here.'); });
  window.addEventListener('beforeunload', function (e) {
    if (pending > 0 || document.querySelector('.item[data-dirty]')) { e.preventDefault(); e.returnValue = ''; }
  });
})();
