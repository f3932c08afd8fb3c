// The evidence panel's one behaviour: a click on a line, a location or a heat cell asks the
// extension to open that place. The extension checks the URI against the report it rendered.
// @ts-check
(function () {
  // @ts-ignore: provided by the webview host.
  const vscode = acquireVsCodeApi();
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('[data-uri][data-line]') : null;
    if (!target) return;
    const line = Number(target.getAttribute('data-line'));
    vscode.postMessage({ type: 'open', uri: target.getAttribute('data-uri'), line });
  });
})();
