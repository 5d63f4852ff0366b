() => {
  // The chat's behaviour in the browser: [n] markers open their source card, the answer the
  // cards belong to is outlined, and the chat's own live region gives way to one that
  // announces each answer once, complete.
  const MARKER = /\[(\d{1,3})\]/g;
  const bots = () => [...document.querySelectorAll('#chat [data-testid="bot"]')];
  // Labels Gradio writes in English whatever the language (not in its translations).
  const FRENCH = {
    'Copy message': 'Copier le message', 'Copied message': 'Message copié',
    'Copy': 'Copier', 'Copied': 'Copié', 'Like': "J'aime", 'Dislike': "Je n'aime pas",
    'Liked': 'Aimé', 'Disliked': 'Pas aimé', 'Close': 'Fermer', 'Clear': 'Effacer',
    'More tabs': "Plus d'onglets", 'Download': 'Télécharger', 'Remove': 'Retirer',
  };
  const PREFIXES = [["user's message: ", 'Votre question : '],
                    ["bot's message: ", "Réponse de l'assistant : "]];

  function translate(element, name) {
    const value = element.getAttribute(name);
    if (value in FRENCH) { element.setAttribute(name, FRENCH[value]); return; }
    for (const [english, french] of PREFIXES) {
      if (value.startsWith(english)) {
        element.setAttribute(name, french + value.slice(english.length));
      }
    }
  }

  function wrapMarkers(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.closest('.cite-marker, code, pre') && MARKER.test(node.data)) {
        found.push(node);
      }
      MARKER.lastIndex = 0;
    }
    for (const node of found) {
      const fragment = document.createDocumentFragment();
      let last = 0;
      for (const match of node.data.matchAll(MARKER)) {
        fragment.append(node.data.slice(last, match.index));
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'cite-marker';
        button.dataset.n = match[1];
        button.textContent = match[0];
        button.setAttribute('aria-label', `Source ${match[1]}`);
        fragment.append(button);
        last = match.index + match[0].length;
      }
      fragment.append(node.data.slice(last));
      node.replaceWith(fragment);
    }
  }

  function outlineCurrent() {
    const shown = document.querySelector('#sources [data-turn]');
    const turn = shown ? Number(shown.dataset.turn) : -1;
    bots().forEach((bot, i) => bot.classList.toggle('current-answer', i === turn));
  }

  function showCard(turn, n, tries = 100) {
    const card = document.querySelector(`#sources [data-turn="${turn}"] #source-${n}`);
    if (!card) {
      if (tries > 0) setTimeout(() => showCard(turn, n, tries - 1), 50);
      return;
    }
    card.scrollIntoView({block: 'start', behavior: 'instant'});
    card.focus({preventScroll: true});
    card.classList.add('flash');
    setTimeout(() => card.classList.remove('flash'), 2000);
  }

  document.addEventListener('click', (event) => {
    const marker = event.target.closest('#chat .cite-marker');
    if (!marker) return;
    const turn = bots().indexOf(marker.closest('[data-testid="bot"]'));
    showCard(turn, marker.dataset.n);
  });

  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      for (const bot of bots()) wrapMarkers(bot);
      outlineCurrent();
      // A toast's header is a button holding its close button (axe: nested-interactive);
      // the close button is enough.
      document.querySelectorAll('.toast-header[role="button"]').forEach((header) => {
        header.removeAttribute('role');
        header.removeAttribute('tabindex');
      });
      for (const name of ['aria-label', 'title']) {
        document.querySelectorAll(`[${name}]`).forEach((e) => translate(e, name));
      }
      const announcer = document.querySelector('#announcer');
      if (announcer && announcer.getAttribute('role') !== 'status') {
        announcer.setAttribute('role', 'status');
        announcer.setAttribute('aria-live', 'polite');
        announcer.setAttribute('aria-atomic', 'true');
      }
      const log = document.querySelector('#chat [role="log"]');
      if (log && log.getAttribute('aria-live') !== 'off') {
        log.setAttribute('aria-live', 'off');
        log.setAttribute('aria-label', 'Conversation');
      }
    });
  }).observe(document.body, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ['aria-label', 'title'],
  });

}
