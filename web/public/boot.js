// Outpost's boot screen: the conversation as it was last on screen, shown while the app itself
// starts (web/src/app/bootScreen.ts saves it and takes it away). A plain script, run while the page
// is parsed, so it paints before the app's bundle has even run. It shows only for the same user,
// the same address and the same layout (phone or wide); anything unexpected shows nothing.
// It also starts the app (the built page does not load it, see web/bootPlugin.ts): after the boot
// screen's first frame, or at once when there is none.
(function () {
  var app = document.currentScript && document.currentScript.getAttribute('data-app');
  var start = function () {
    if (app) import(app);
  };
  try {
    var saved = JSON.parse(localStorage.getItem('outpost.bootScreen') || 'null');
    var session = JSON.parse(localStorage.getItem('outpost.session') || 'null');
    if (!saved || !session || !session.user || saved.userId !== session.user.id) return start();
    if (saved.path !== location.pathname || saved.narrow !== matchMedia('(max-width: 720px)').matches) return start();
    var boot = document.createElement('div');
    boot.id = 'boot';
    // A picture of the app until the app is there: not clickable, and not read out twice.
    boot.setAttribute('inert', '');
    boot.setAttribute('aria-hidden', 'true');
    boot.setAttribute('data-rows', String(saved.rows));
    boot.innerHTML = saved.html;
    document.body.appendChild(boot);
    // The app starts once the copy is on screen (the first paint is reported once presented): its
    // bundle's top level would otherwise share the cores with drawing the copy. A page in the
    // background is not painted; it starts anyway after a moment.
    var started = false;
    var once = function () {
      if (started) return;
      started = true;
      start();
    };
    new PerformanceObserver(once).observe({ type: 'paint' });
    setTimeout(once, 300);
    // The app takes it away once its own list is there; this is for an app that never starts.
    setTimeout(function () {
      boot.remove();
    }, 10000);
  } catch (error) {
    console.warn('outpost: no boot screen', error);
    start();
  }
})();
