// The ask panel: shows the turn snapshots the extension posts ({type: 'reset' | 'turn' |
// 'busy'}) and posts the user's actions back ({type: 'ask' | 'cancel' | 'copy' | 'evidence'
// | 'open' | 'ready'}). Model and file text is set with textContent only, never as markup.
// @ts-check
(function () {
  // @ts-ignore: provided by the webview host.
  const vscode = acquireVsCodeApi();
  const conversation = /** @type {HTMLElement} */ (document.getElementById('conversation'));
  const empty = /** @type {HTMLElement} */ (document.getElementById('empty'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('ask-form'));
  const question = /** @type {HTMLTextAreaElement} */ (document.getElementById('question'));
  const askButton = /** @type {HTMLButtonElement} */ (document.getElementById('ask'));
  const cancelButton = /** @type {HTMLButtonElement} */ (document.getElementById('cancel'));

  /**
   * The snapshots src/webview/askView.ts describes (TurnView, LocationView).
   * @typedef {{ uri: string, line: number, label: string, relativeScore: number, text: string }} LocationView
   * @typedef {{ askId: string, question: string, status: 'running' | 'done' | 'failed' | 'cancelled', answer: string,
   *   framing?: string, stopReason?: string, error?: string, locations?: LocationView[] | null,
   *   questionLocations?: LocationView[], questionBaseline?: string }} TurnView
   */

  /** @type {Record<TurnView['status'], string>} */
  const statusWords = { running: 'answering…', done: '', failed: 'failed', cancelled: 'cancelled' };

  /** @param {string} tag @param {string} [className] @param {string} [text] */
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The turn's article, created on first sight with its fixed parts. @param {string} askId */
  function articleFor(askId) {
    const existing = conversation.querySelector(`article[data-ask-id="${CSS.escape(askId)}"]`);
    if (existing) return /** @type {HTMLElement} */ (existing);
    const article = element('article', 'turn');
    article.dataset.askId = askId;
    article.append(element('h2', 'question'), element('p', 'status'), element('pre', 'answer'), element('p', 'error'));
    const framing = element('details', 'framing');
    framing.append(element('summary', undefined, 'What was asked of the model'), element('pre'));
    const pointed = element('section', 'locations question-locations');
    pointed.append(element('h3', undefined, 'Where the question points'), element('p', 'note'), element('ol'), element('p', 'empty', 'No workspace lines.'));
    const locations = element('section', 'locations answer-locations');
    locations.append(element('h3', undefined, 'Workspace lines the answer drew on'), element('p', 'note', 'Attended to while the model read the question and wrote the answer.'), element('ol'), element('p', 'empty'));
    const actions = element('div', 'actions');
    const copy = element('button', 'copy', 'Copy answer');
    copy.addEventListener('click', () => vscode.postMessage({ type: 'copy', askId }));
    const evidence = element('button', 'evidence', 'Show evidence');
    evidence.addEventListener('click', () => vscode.postMessage({ type: 'evidence', askId }));
    actions.append(copy, evidence);
    article.append(framing, pointed, locations, actions);
    conversation.append(article);
    return article;
  }

  /** @param {HTMLElement} article @param {string} selector */
  function part(article, selector) {
    return /** @type {HTMLElement} */ (article.querySelector(selector));
  }

  /** @param {TurnView} turn */
  function showTurn(turn) {
    const article = articleFor(turn.askId);
    article.dataset.status = turn.status;
    part(article, '.question').textContent = turn.question;
    part(article, '.status').textContent = statusWords[turn.status] ?? turn.status;
    part(article, '.answer').textContent = turn.answer;
    part(article, '.answer').hidden = turn.answer.length === 0;
    part(article, '.error').textContent = turn.error ?? '';
    part(article, '.error').hidden = !turn.error;
    const framing = part(article, '.framing');
    framing.hidden = turn.framing === undefined;
    part(framing, 'pre').textContent = turn.framing ?? '';
    // Locations appear once the answer is done; for "where is" questions those the question points to are the answer.
    const pointed = part(article, '.question-locations');
    pointed.hidden = turn.questionLocations === undefined;
    part(pointed, '.note').textContent = questionNote(turn.questionBaseline);
    part(pointed, 'ol').replaceChildren(...(turn.questionLocations ?? []).map(locationItem));
    part(pointed, '.empty').hidden = (turn.questionLocations ?? []).length > 0;
    const locations = part(article, '.answer-locations');
    locations.hidden = turn.locations === undefined;
    const list = part(locations, 'ol');
    list.replaceChildren(...(turn.locations ?? []).map(locationItem));
    const none = part(locations, '.empty');
    none.textContent = turn.locations === null ? 'The server returned no evidence for this answer.' : 'No workspace lines.';
    none.hidden = turn.locations !== null && (turn.locations ?? []).length > 0;
    part(article, '.actions').hidden = turn.status !== 'done';
    part(article, 'button.evidence').hidden = turn.locations == null;
    empty.hidden = true;
    if (turn.status === 'running') article.scrollIntoView({ block: 'end' });
  }

  /** What the question's locations are, in words. @param {string | undefined} baseline */
  function questionNote(baseline) {
    const read = 'The workspace lines the model attended to while it read the question, before answering';
    return baseline ? `${read}, beyond what it attends to for “${baseline}”, a question that names nothing.` : `${read}.`;
  }

  /** @param {LocationView} location */
  function locationItem(location) {
    const item = element('li');
    const open = element('button', 'location', location.label);
    open.addEventListener('click', () => vscode.postMessage({ type: 'open', uri: location.uri, line: location.line }));
    const meter = /** @type {HTMLMeterElement} */ (element('meter'));
    meter.min = 0;
    meter.max = 1;
    meter.value = location.relativeScore;
    item.append(open, meter, element('pre', undefined, location.text));
    return item;
  }

  /** @param {boolean} busy */
  function setBusy(busy) {
    askButton.disabled = busy;
    cancelButton.hidden = !busy;
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (message.type === 'reset') {
      conversation.replaceChildren();
      empty.hidden = false;
    } else if (message.type === 'turn') {
      showTurn(message.turn);
    } else if (message.type === 'busy') {
      setBusy(message.busy);
    }
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text || askButton.disabled) return;
    vscode.postMessage({ type: 'ask', question: text });
    question.value = '';
  });
  question.addEventListener('keydown', (event) => {
    // Enter asks; Shift+Enter makes a new line.
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  cancelButton.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
  vscode.postMessage({ type: 'ready' });
})();
